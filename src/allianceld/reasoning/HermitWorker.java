// A warm HermiT: answers OWL 2 DL consistency requests on stdin, one after another, in one JVM.
//
// allianceld.reasoning.hermit.Worker starts it with HermiT's classpath (owlready2's HermiT.jar and
// its additions) and speaks a length-prefixed protocol, so the N-Triples payload may hold any bytes:
//   request:  "consistency <n>\n" followed by n bytes of N-Triples (UTF-8)
//   answer:   "<STATUS> <n>\n" followed by n bytes of UTF-8 text, STATUS one of
//             READY (once, at start), CONSISTENT, INCONSISTENT, ERROR
// Each request is read by the OWL API's Turtle parser into a fresh ontology and checked by a fresh
// Reasoner with the default Configuration, as HermiT's command line does for "-k". End of input ends the worker; a
// malformed request or a JVM error (such as running out of memory) answers ERROR and ends it too.

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import org.semanticweb.HermiT.Configuration;
import org.semanticweb.HermiT.Reasoner;
import org.semanticweb.owlapi.apibinding.OWLManager;
import org.semanticweb.owlapi.io.StreamDocumentSource;
import org.semanticweb.owlapi.model.OWLOntology;
import org.semanticweb.owlapi.model.OWLOntologyManager;
import org.semanticweb.owlapi.reasoner.InconsistentOntologyException;

import uk.ac.manchester.cs.owl.owlapi.turtle.parser.TurtleOntologyParser;

public final class HermitWorker {
    private static final int MAX_HEADER = 64;

    public static void main(String[] args) throws IOException {
        DataInputStream in = new DataInputStream(new BufferedInputStream(System.in, 1 << 16));
        OutputStream out = new BufferedOutputStream(new FileOutputStream(FileDescriptor.out));
        // nothing but answers goes to stdout; the libraries' own output is dropped once started
        PrintStream discard = new PrintStream(OutputStream.nullOutputStream());
        System.setOut(discard);
        answer(out, "READY", "HermiT worker");
        System.setErr(discard);
        while (true) {
            String header = readHeader(in);
            if (header == null) {
                return;
            }
            String[] parts = header.split(" ", -1);
            int length = -1;
            if (parts.length == 2 && parts[0].equals("consistency")) {
                try {
                    length = Integer.parseInt(parts[1]);
                } catch (NumberFormatException e) {
                    length = -1;
                }
            }
            if (length < 0) {
                answer(out, "ERROR", "malformed request header");
                System.exit(2);
            }
            byte[] body = new byte[length];
            in.readFully(body);
            try {
                answer(out, consistent(body) ? "CONSISTENT" : "INCONSISTENT", "");
            } catch (InconsistentOntologyException e) {
                answer(out, "INCONSISTENT", "");
            } catch (Exception e) {
                answer(out, "ERROR", String.valueOf(e));
            } catch (Error e) {
                answer(out, "ERROR", String.valueOf(e));
                System.exit(3);
            }
        }
    }

    private static boolean consistent(byte[] ntriples) throws Exception {
        OWLOntologyManager manager = OWLManager.createOWLOntologyManager();
        // read by the Turtle parser (N-Triples is Turtle), the one the OWL API's format guessing ends
        // with after trying the others in turn: the same axioms, in half the time
        OWLOntology ontology = manager.createOntology();
        new TurtleOntologyParser().parse(new StreamDocumentSource(new ByteArrayInputStream(ntriples)), ontology);
        Reasoner reasoner = new Reasoner(new Configuration(), ontology);
        try {
            return reasoner.isConsistent();
        } finally {
            reasoner.dispose();
        }
    }

    /** The next header line without its newline; null at the end of input before any byte. */
    private static String readHeader(DataInputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        while (true) {
            int b = in.read();
            if (b < 0) {
                if (line.size() == 0) {
                    return null;
                }
                throw new EOFException("end of input inside a request header");
            }
            if (b == '\n') {
                return line.toString(StandardCharsets.US_ASCII);
            }
            if (line.size() == MAX_HEADER) {
                return "";
            }
            line.write(b);
        }
    }

    private static void answer(OutputStream out, String status, String text) throws IOException {
        byte[] body = text.getBytes(StandardCharsets.UTF_8);
        out.write((status + " " + body.length + "\n").getBytes(StandardCharsets.US_ASCII));
        out.write(body);
        out.flush();
    }
}
