"""The warm HermiT worker: the per-write DL check runs in one JVM kept across writes, with the same
verdicts as HermiT's command line, restarted when it dies, no answer (never "consistent") on a
time-out, and a framing the data cannot confuse."""

from __future__ import annotations

import dataclasses
import logging
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
import rdflib

from allianceld.rdf import formats
from allianceld.reasoning import dl_check, hermit, materialise
from allianceld.store import KnowledgeBase
from allianceld.vocab import ALD, ONTOLOGY_GRAPH, data_graph_iri
from allianceld.write import gate
from allianceld.write.write_policy import WritePolicy
from conftest import requires_java

pytestmark = requires_java

ID = "https://w3id.org/allianceld/id/"
PREFIXES = f"""@prefix ald: <{ALD}> . @prefix org: <http://www.w3.org/ns/org#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> . @prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> . @prefix prov: <http://www.w3.org/ns/prov#> .
@prefix state: <{ID}state/> . @prefix alliance: <{ID}alliance/> . @prefix treaty: <{ID}treaty/> .
@prefix provision: <{ID}provision/> . @prefix dcterms: <http://purl.org/dc/terms/> .
@prefix membership: <{ID}membership/> . @prefix ex: <http://example.org/> .
"""
NEW_GRAPH = data_graph_iri("hermit-worker-test")

A_MEMBERSHIP = """
membership:worker-fra a org:Membership ; org:member state:fra ; org:organization alliance:nato ;
    org:role ald:Member ; ald:startDate "1949-08-24"^^xsd:date ; prov:wasDerivedFrom <https://example.org/src> .
"""
MARKERS = '"a\\nconsistency 0\\nCONSISTENT 0\\nREADY 0\\n\\u0000 end"'  # newlines and the frame words

# writes to the shipped data, checked on their module of the store: (turtle, consistent?)
WRITES = [
    (A_MEMBERSHIP, True),
    (f"alliance:nato rdfs:comment {MARKERS} .", True),
    ('alliance:worker a ald:BilateralAlliance ; ald:foundingDate "1990-01-01"^^xsd:date .', True),
    ("state:fra a ald:BilateralAlliance .", False),  # disjoint classes
    ("treaty:worker a ald:Treaty ; ald:signatory alliance:nato .", False),  # a range forces a disjoint type
    ('alliance:nato ald:foundingDate "1950-01-01"^^xsd:date .', False),  # functional property, two values
    (
        'treaty:worker a ald:Treaty ; ald:signingDate "1990-01-01"^^xsd:date ;'
        " ald:hasProvision provision:north-atlantic-treaty-article-5 .",
        False,  # inverse functional: two treaties become one with two dates
    ),
    ('alliance:worker a ald:BilateralAlliance ; ald:foundingDate "soon" .', False),  # datatype clash
    (A_MEMBERSHIP + "alliance:worker a ald:BilateralAlliance, owl:Nothing .", False),  # owl:Nothing
    ("state:fra owl:sameAs state:deu . state:fra owl:differentFrom state:deu .", False),  # sameAs + differentFrom
    ('state:fra owl:sameAs state:deu . state:fra rdfs:comment "merged" .', False),  # two ISO codes then
]

# small ontologies of their own, for the axioms the shipped one does not use
ONTOLOGIES = [
    (
        "ex:p a owl:ObjectProperty . ex:C owl:equivalentClass [ a owl:Restriction ; owl:onProperty ex:p ;"
        " owl:maxCardinality 1 ] . ex:i a ex:C ; ex:p ex:a, ex:b . ex:a owl:differentFrom ex:b .",
        False,
    ),
    (
        "ex:p a owl:ObjectProperty . ex:C owl:equivalentClass [ a owl:Restriction ; owl:onProperty ex:p ;"
        " owl:maxCardinality 1 ] . ex:i a ex:C ; ex:p ex:a, ex:b .",
        True,
    ),
    (
        "ex:p a owl:ObjectProperty . ex:C rdfs:subClassOf [ a owl:Restriction ; owl:onProperty ex:p ;"
        " owl:minCardinality 2 ] . ex:C rdfs:subClassOf [ a owl:Restriction ; owl:onProperty ex:p ;"
        " owl:maxCardinality 1 ] . ex:i a ex:C .",
        False,
    ),
    ('ex:d a owl:DatatypeProperty ; rdfs:range xsd:integer . ex:i ex:d "x"^^xsd:string .', False),
    ('ex:d a owl:DatatypeProperty ; rdfs:range xsd:integer . ex:i ex:d "7"^^xsd:integer .', True),
    ("ex:p a owl:ObjectProperty , owl:AsymmetricProperty . ex:a ex:p ex:b . ex:b ex:p ex:a .", False),
    ("ex:A owl:disjointWith ex:B . ex:i a ex:A . ex:j a ex:B . ex:i owl:sameAs ex:j .", False),
    ("ex:A owl:disjointWith ex:B . ex:i a ex:A . ex:j a ex:B .", True),
]


def module_of(kb: KnowledgeBase, turtle: str) -> bytes:
    written = formats.parse(PREFIXES + turtle, ox.RdfFormat.TURTLE, source="test")
    return dl_check.gather(kb, kb.rdflib_graph([ONTOLOGY_GRAPH]), written, [NEW_GRAPH]).ntriples()


def ontology_of(turtle: str) -> bytes:
    graph = rdflib.Graph().parse(data=PREFIXES + turtle, format="turtle")
    return materialise.dl_graph(graph).serialize(format="nt", encoding="utf-8")


@pytest.fixture(scope="module")
def worker() -> hermit.Worker:
    w = hermit.Worker()
    yield w
    w.close()


@pytest.mark.parametrize(("data", "expected"), WRITES)
def test_the_worker_and_the_command_line_agree_on_writes_to_the_shipped_data(
    shared_kb: KnowledgeBase, worker: hermit.Worker, data: str, expected: bool
) -> None:
    ntriples = module_of(shared_kb, data)
    assert hermit.run(ntriples, ["-k"]).ok is expected
    assert worker.consistent(ntriples).ok is expected


@pytest.mark.parametrize(("data", "expected"), ONTOLOGIES)
def test_the_worker_and_the_command_line_agree_on_small_ontologies(
    worker: hermit.Worker, data: str, expected: bool
) -> None:
    ntriples = ontology_of(data)
    assert hermit.run(ntriples, ["-k"]).ok is expected
    assert worker.consistent(ntriples).ok is expected


def test_input_hermit_cannot_read_is_no_answer_on_both_paths(worker: hermit.Worker) -> None:
    """HermiT's command line exits 0 when it cannot parse its input: that is no answer, not "consistent"."""
    garbage = b"<http://example.org/a> this is not N-Triples"
    assert hermit.run(garbage, ["-k"]).ok is None
    answer = worker.consistent(garbage)
    assert answer.ok is None and answer.output.startswith("HermiT failed")
    assert worker.consistent(ontology_of(ONTOLOGIES[0][0])).ok is False  # and it still answers


def test_frame_words_and_newlines_in_the_payload_do_not_confuse_the_protocol(worker: hermit.Worker) -> None:
    """Comment lines that read like headers and answers, and a literal holding them, are payload."""
    bad = ontology_of(f"ex:i rdfs:comment {MARKERS} . ex:A owl:disjointWith ex:B . ex:i a ex:A, ex:B .")
    good = ontology_of(f"ex:i rdfs:comment {MARKERS} . ex:A owl:disjointWith ex:B . ex:i a ex:A .")
    noise = b"# consistency 0\n# CONSISTENT 0\n# INCONSISTENT 0\n# READY 13\n"
    assert worker.consistent(good).ok is True  # the process runs (this test may be the module's first)
    started = worker.starts
    for _ in range(2):
        assert worker.consistent(noise + bad).ok is False
        assert worker.consistent(noise + good).ok is True
    assert worker.starts == started


def test_one_jvm_serves_five_writes_through_the_gate(
    loaded_kb: KnowledgeBase, write_policy: WritePolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A JVM per write before; one for all of them now."""
    launched: list[list[str]] = []
    popen = subprocess.Popen

    def counting(args: list[str], *a: object, **k: object) -> subprocess.Popen[bytes]:
        if "java" in Path(str(args[0])).name:
            launched.append(list(args))
        return popen(args, *a, **k)

    monkeypatch.setattr(subprocess, "Popen", counting)
    checking = dataclasses.replace(write_policy, dl_checks=True, hermit=hermit.Worker())
    for i, state in enumerate(["bra", "chn", "idn", "mys", "tha"]):
        triples = formats.parse(
            PREFIXES + f"membership:worker-{i} a org:Membership ; org:member state:{state} ;"
            ' org:organization alliance:nato ; org:role ald:Partner ; ald:startDate "2000-01-01"^^xsd:date ;'
            ' prov:wasDerivedFrom <https://example.org/src> . <https://example.org/src> dcterms:title "A source" .',
            ox.RdfFormat.TURTLE,
            source="test",
        )
        gate.commit(loaded_kb, checking, [gate.Source(data_graph_iri(f"worker-{i}"), triples, "test")])
    assert len(launched) == 1
    pid = checking.hermit.pid
    assert pid is not None
    verdict = dl_check.check_write(loaded_kb, None, module_triples(WRITES[3][0]), [NEW_GRAPH], worker=checking.hermit)
    assert verdict.consistent is False
    assert checking.hermit.pid == pid and len(launched) == 1
    checking.close()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def module_triples(turtle: str) -> list[ox.Triple]:
    return formats.parse(PREFIXES + turtle, ox.RdfFormat.TURTLE, source="test")


def test_a_killed_worker_is_started_again_with_the_right_verdict(shared_kb: KnowledgeBase) -> None:
    w = hermit.Worker()
    good, bad = module_of(shared_kb, A_MEMBERSHIP), module_of(shared_kb, WRITES[3][0])
    try:
        assert w.consistent(good).ok is True
        first = w.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        assert w.consistent(bad).ok is False
        assert w.starts == 2 and w.pid not in (None, first)
        os.kill(w.pid, signal.SIGKILL)
        assert w.consistent(good).ok is True
        assert w.starts == 3
    finally:
        w.close()


def test_a_worker_that_does_not_answer_in_time_gives_no_answer_and_is_replaced(shared_kb: KnowledgeBase) -> None:
    """A stopped process cannot answer however fast the machine: the time-out's verdict is None."""
    w = hermit.Worker()
    bad = module_of(shared_kb, WRITES[3][0])
    try:
        assert w.consistent(bad).ok is False
        stopped = w.pid
        assert stopped is not None
        os.kill(stopped, signal.SIGSTOP)
        w.timeout_s = 0.5
        answer = w.consistent(bad)
        assert answer.ok is None
        assert answer.output == "HermiT did not finish within 0.5 s"
        with pytest.raises(ProcessLookupError):  # killed and reaped
            os.kill(stopped, 0)
        w.timeout_s = hermit.TIMEOUT_S
        assert w.consistent(bad).ok is False
        assert w.starts == 2
    finally:
        w.close()


def test_when_the_worker_cannot_start_the_command_line_answers_and_the_log_says_so_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    broken = tmp_path / "HermitWorker.java"
    broken.write_text("this is not Java\n", encoding="utf-8")
    monkeypatch.setattr(hermit, "WORKER_SOURCE", broken)
    w = hermit.Worker()
    with caplog.at_level(logging.WARNING, logger="allianceld.reasoning.hermit"):
        assert w.consistent(ontology_of(ONTOLOGIES[0][0])).ok is False
        assert w.consistent(ontology_of(ONTOLOGIES[1][0])).ok is True
    assert w.fallback is not None and "command line" in w.fallback
    assert [r.getMessage() for r in caplog.records] == [w.fallback]
    assert w.starts == 1 and w.pid is None


def test_without_java_the_worker_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    assert hermit.Worker().consistent(b"") == hermit.Run(None, hermit.NO_JAVA, 0.0)


def test_the_ontology_is_read_once_per_content_and_a_changed_ontology_is_read_again(settings) -> None:
    """Every check reads the store's ontology; it is mapped for HermiT once per content, never stale."""
    kb = KnowledgeBase()
    ontology = formats.parse_file(settings.ontology_file)
    kb.replace_graphs({ONTOLOGY_GRAPH: ontology})
    write = module_triples('ex:thing a ald:Treaty, ald:Provision ; ald:signingDate "1990-01-01"^^xsd:date .')
    dl_check._read_ontology.cache_clear()
    dl_check._stored_ontology.cache_clear()
    for _ in range(3):
        assert dl_check.check_write(kb, None, write, [NEW_GRAPH]).consistent is True
    assert dl_check._read_ontology.cache_info().misses == 1
    assert (dl_check._stored_ontology.cache_info().misses, dl_check._stored_ontology.cache_info().hits) == (1, 2)
    kb.replace_graphs({ONTOLOGY_GRAPH: [*ontology, *module_triples("ald:Treaty owl:disjointWith ald:Provision .")]})
    assert dl_check.check_write(kb, None, write, [NEW_GRAPH]).consistent is False
    assert dl_check._read_ontology.cache_info().misses == 2
    kb.close()


def test_the_worker_is_compiled_once_and_started_from_its_classes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a JDK, javac compiles the worker once into the cache; every later start runs the
    compiled class (source-file mode compiled it at every start), with the same verdicts."""
    if not Path(os.path.realpath(str(__import__("shutil").which("java")))).with_name("javac").is_file():
        pytest.skip("no javac beside java: the worker starts in source-file mode")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    compiles: list[list[str]] = []
    starts: list[list[str]] = []
    real_run, real_popen = subprocess.run, subprocess.Popen

    def run(args: list[str], *a: object, **k: object) -> subprocess.CompletedProcess[bytes]:
        if Path(str(args[0])).name == "javac":
            compiles.append(list(args))
        return real_run(args, *a, **k)  # type: ignore[call-overload,no-any-return]

    def popen(args: list[str], *a: object, **k: object) -> subprocess.Popen[bytes]:
        if Path(str(args[0])).name == "java":
            starts.append(list(args))
        return real_popen(args, *a, **k)  # type: ignore[call-overload,no-any-return]

    monkeypatch.setattr(subprocess, "run", run)
    monkeypatch.setattr(subprocess, "Popen", popen)
    for _ in range(2):
        w = hermit.Worker()
        assert w.consistent(b"<http://example.org/a> a <http://www.w3.org/2002/07/owl#Thing> .\n").ok is True
        assert w.fallback is None
        w.close()
    assert len(compiles) == 1 and len(starts) == 2
    assert all(args[-1] == "HermitWorker" for args in starts)
    assert list(tmp_path.glob("allianceld/hermit-worker-*/HermitWorker.class"))


@requires_java
def test_a_warmed_worker_has_its_process_before_the_first_check() -> None:
    w = hermit.Worker()
    try:
        started = w.warm()
        assert started is not None
        started.join(120)
        assert w.pid is not None and w.starts == 1  # started with no check asked
        assert w.consistent(ontology_of("ald:A a owl:Class .")).ok is True
        assert w.starts == 1  # the check used that process
    finally:
        w.close()


@requires_java
def test_a_served_app_starts_hermit_at_once_and_a_plain_one_on_its_first_write(tmp_path) -> None:
    from allianceld.config import Settings
    from allianceld.web import create_app
    from allianceld.web.services import services

    warmed = create_app({"SETTINGS": Settings(store_path=None, dl_checks=True), "WARM": True})
    plain = create_app({"SETTINGS": Settings(store_path=None, dl_checks=True)})
    with warmed.app_context():
        worker = services().write_policy.hermit
    deadline = time.monotonic() + 120
    while worker.pid is None and time.monotonic() < deadline:  # the start, in its own thread
        time.sleep(0.05)
    try:
        assert worker.pid is not None
        with plain.app_context():
            assert services().write_policy.hermit.pid is None
    finally:
        worker.close()


@requires_java
def test_a_first_check_given_to_warm_runs_before_any_other_and_its_verdict_is_dropped() -> None:
    """The warm-up check (an inconsistent one, here) is asked of the process warm starts; the
    checks after it get their own verdicts from that process."""
    asked: list[int] = []
    inconsistent = ontology_of("ald:A owl:disjointWith ald:B . ald:x a ald:A, ald:B .")

    def first() -> bytes:
        asked.append(1)
        return inconsistent

    w = hermit.Worker()
    try:
        started = w.warm(first)
        assert started is not None
        started.join(120)
        assert asked == [1] and w.pid is not None
        assert w.consistent(ontology_of("ald:A a owl:Class .")).ok is True
        assert w.consistent(inconsistent).ok is False
        assert w.starts == 1
    finally:
        w.close()


@requires_java
@pytest.mark.parametrize("one_shot", [True, False])
def test_a_worker_for_one_command_uses_the_quick_compiler_only(one_shot: bool) -> None:
    w = hermit.Worker()
    try:
        started = w.warm(one_shot=one_shot)
        assert started is not None
        started.join(120)
        assert w.pid is not None
        command = Path(f"/proc/{w.pid}/cmdline").read_bytes().split(b"\0")
        assert (b"-XX:TieredStopAtLevel=1" in command) is one_shot
        assert w.consistent(ontology_of("ald:A a owl:Class .")).ok is True
    finally:
        w.close()


def test_the_write_policy_warms_hermit_with_its_ontology(settings, monkeypatch: pytest.MonkeyPatch) -> None:
    policy = dataclasses.replace(WritePolicy.from_settings(settings), dl_checks=True)
    calls: list[tuple[Any, bool]] = []
    monkeypatch.setattr(policy.hermit, "warm", lambda first=None, *, one_shot=False: calls.append((first, one_shot)))
    policy.warm(one_shot=True)
    [(first, one_shot)] = calls
    assert one_shot is True
    given = {q.triple for q in ox.parse(first(), format=ox.RdfFormat.N_TRIPLES)}
    assert len(given) == len(policy.validator.ontology) > 500
