"""Crash safety: a real server, or a bulk load, SIGKILLed in the middle of a large write.

After the kill the store must open again, the interrupted write must be wholly absent (no
triple, no graph, no provenance record), every acknowledged write must be present with its
record, and the inferred graphs must equal a full recomputation from the asserted data. The
server is killed with a query workers' snapshot beside the store; the restarted one removes it.

Where each kill lands is made certain by the order of events, never by the clock or CPU time.
Each process under test runs a probe: at the moment the kill must land it writes a line (to a
file, or to its standard output) and then waits for ever; the test kills it once it has read the
line. The server's probe ends the store's one transaction of a commit with an operation whose
WHERE calls a custom function, so the kill lands inside that transaction, after the write's own
operations; the bulk load's probe waits inside validation, with the store open, before its
commit; a bare ``KnowledgeBase.write`` is paused inside its transaction the same way.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import signal
import subprocess
import sys
import textwrap
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pyoxigraph as ox
import pytest

from allianceld.config import Settings
from allianceld.reasoning import domain_rules, materialise
from allianceld.store import KnowledgeBase, bulk_write
from allianceld.tokens import TokenStore
from allianceld.vocab import (
    CONTRIBUTION_GRAPH_BASE,
    PROVENANCE_GRAPH_BASE,
    WRITE_RECORDS_GRAPH,
    contribution_graph_iri,
    data_graph_iri,
    is_inferred_graph,
    provenance_graph_iri,
)
from conftest import ROOT, free_port, wait_for

sys.path.insert(0, str(ROOT / "benchmarks"))
from generate import generate

pytestmark = pytest.mark.server
CLI = [sys.executable, "-m", "allianceld.cli"]
VOID_TRIPLES = ox.NamedNode("http://rdfs.org/ns/void#triples")
RECORD_OF = re.compile(r"/(?:alliance|treaty|provision|membership)/syn-(\d+)|/source/alliance-(\d+)$")


# -- helpers --------------------------------------------------------------------------------------


WRITE_OUTCOME = "https://w3id.org/allianceld/ontology#writeOutcome"


def write_outcomes(kb: KnowledgeBase) -> list[str]:
    """The outcomes the write records store (``write.write_records``)."""
    return [q.object.value for q in kb.quads([WRITE_RECORDS_GRAPH]) if q.predicate.value == WRITE_OUTCOME]


def has_open(pid: int, directory: Path) -> bool:
    """Whether process ``pid`` has a file under ``directory`` open."""
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):  # closed meanwhile
            if os.readlink(fd).startswith(f"{directory}/"):
                return True
    return False


def request(url: str, data: bytes | None = None, **headers: str) -> tuple[int, bytes]:
    """(status, body); status 0 when no answer came (the connection was cut)."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers), timeout=120) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except OSError:
        return 0, b""


# the last operation of a transaction paused from inside (see PAUSED_TAIL's users): its WHERE
# calls the custom function <urn:x-crash-test:pause>, which signals, then waits for ever
PAUSE = "urn:x-crash-test:pause"
PAUSED_TAIL = (
    f" ;\nINSERT {{ GRAPH <urn:x-crash-test:never> {{ <urn:x:s> <urn:x:p> ?o }} }} WHERE {{ BIND(<{PAUSE}>() AS ?o) }}"
)
# the CLI, with EmbeddedBackend.update noting in the file $CRASH_PROBE that a transaction begins;
# while the file $CRASH_PROBE.pause exists, the transaction ends with the paused operation, which
# notes "inside" once the write's own operations have run in it
PROBED_CLI = textwrap.dedent(
    f"""
    import os, sys, threading
    import pyoxigraph as ox
    from allianceld.store import backends
    def note(line):
        with open(os.environ["CRASH_PROBE"], "a") as probe:
            probe.write(line + "\\n")
    def inside():
        note("inside")
        threading.Event().wait()
    update = backends.EmbeddedBackend.update
    def noted(self, sparql):
        note(f"update of {{len(sparql)}} characters")
        if os.path.exists(os.environ["CRASH_PROBE"] + ".pause"):
            self.store.update(sparql + {PAUSED_TAIL!r}, custom_functions={{ox.NamedNode({PAUSE!r}): inside}})
        else:
            update(self, sparql)
    backends.EmbeddedBackend.update = noted
    from allianceld.cli import main
    main(sys.argv[1:], prog_name="allianceld")
    """
)
# the CLI, with validation paused: it prints "validating" and waits for ever (the store is open)
PAUSED_VALIDATION_CLI = textwrap.dedent(
    """
    import sys, threading
    from allianceld.validation.validator import Validator
    def paused(self, *args, **kwargs):
        print("validating", flush=True)
        threading.Event().wait()
    Validator.validate = Validator.begin_bulk = Validator.validate_triples = paused
    from allianceld.cli import main
    main(sys.argv[1:], prog_name="allianceld")
    """
)


def transactions_begun(probe: Path) -> int:
    """How many store transactions the probed server has begun."""
    return sum(line.startswith("update") for line in probe.read_text().splitlines()) if probe.exists() else 0


def paused_inside(probe: Path) -> bool:
    """Whether the probed server's paused transaction has run the write's own operations."""
    return probe.exists() and "inside" in probe.read_text().splitlines()


@contextlib.contextmanager
def server(store: Path, tokens: Path, probe: Path | None = None) -> Iterator[tuple[subprocess.Popen, str]]:
    """A real ``allianceld serve`` on 127.0.0.1 over ``store``, in a process group of its own
    (its query workers included), noting transactions in ``probe`` when given; yields (process,
    base URL) and stops the group afterwards."""
    port = free_port()
    env = {**os.environ, "ALLIANCELD_TOKENS": str(tokens), "PYTHONUNBUFFERED": "1"}
    cli = CLI
    if probe is not None:
        cli, env["CRASH_PROBE"] = [sys.executable, "-c", PROBED_CLI], str(probe)
    proc = subprocess.Popen(
        [*cli, "--store", str(store), "serve", "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(base + "/healthz", proc, seconds=60)
        yield proc, base
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)


def contribute(base: str, token: str, triples: list[ox.Triple]) -> tuple[int, bytes]:
    body = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)
    return request(
        base + "/contributions", body, Authorization=f"Bearer {token}", **{"Content-Type": "application/n-triples"}
    )


def split_generated(triples: list[ox.Triple]) -> tuple[list[ox.Triple], list[ox.Triple], list[ox.Triple]]:
    """Generated data cut in three contributions: the states (with regions and their source),
    then the alliances (with treaties, provisions, memberships, sources) in two halves by number."""
    numbers = {int(m.group(1) or m.group(2)) for t in triples if (m := RECORD_OF.search(t.subject.value))}
    half = sorted(numbers)[len(numbers) // 2]
    parts: tuple[list[ox.Triple], list[ox.Triple], list[ox.Triple]] = ([], [], [])
    for t in triples:
        m = RECORD_OF.search(t.subject.value)
        parts[0 if m is None else 1 if int(m.group(1) or m.group(2)) < half else 2].append(t)
    return parts


def inferred_graphs(kb: KnowledgeBase) -> dict[str, set[ox.Triple]]:
    return {g: set(kb.triples(g)) for g in kb.graphs() if is_inferred_graph(g)}


def assert_inferences_recomputed(kb: KnowledgeBase, copy: Path) -> None:
    """The inferred graphs of ``kb`` equal a full recomputation (OWL 2 RL closure and every
    domain rule) on a checkpoint of it at ``copy``."""
    kb.snapshot(copy)
    fresh = KnowledgeBase(copy)
    try:
        materialise.materialise(fresh, domain_rules.load_rules(Settings(store_path=None, home=ROOT).rules_dir))
        stored, recomputed = inferred_graphs(kb), inferred_graphs(fresh)
    finally:
        fresh.close()
    assert stored.keys() == recomputed.keys()
    for graph, triples in recomputed.items():
        assert stored[graph] == triples, f"{graph}: {len(stored[graph] ^ triples)} triples differ"


def assert_absent(kb: KnowledgeBase, triples: list[ox.Triple], shared: set[ox.Triple]) -> None:
    """No triple of ``triples`` (but those in ``shared``) is in any graph, and no subject of
    theirs is a subject or an object in any graph (so neither are inferences about them)."""
    store = kb.backend.store
    left = [t for t in triples if t not in shared and next(store.quads_for_pattern(*t, None), None)]
    assert left == [], f"{len(left)} triples of the interrupted write are in the store, e.g. {left[0]}"
    subjects = {t.subject for t in triples if t not in shared}
    for s in subjects:
        assert next(store.quads_for_pattern(s, None, None, None), None) is None, s
        assert next(store.quads_for_pattern(None, None, s, None), None) is None, s


# -- the tests ------------------------------------------------------------------------------------


def test_server_killed_during_a_large_contribution(tmp_path: Path, shipped_store: KnowledgeBase) -> None:
    store, tokens, probe = tmp_path / "store", tmp_path / "tokens.json", tmp_path / "probe"
    shipped_store.snapshot(store)
    token = TokenStore(tokens).create("crash", "contributor")
    states, first, interrupted = split_generated(generate(1300, seed=7))
    ask_first = f"ASK {{ {first[-1]} }}"  # a triple serialised by pyoxigraph, no user text
    assert len(first) > 300 and len(interrupted) > 300
    small = [t for t in first if t.subject.value.endswith("/source/alliance-1")]  # cited again later
    sent: dict[str, int] = {}  # acknowledged contribution id -> triples

    with server(store, tokens, probe) as (proc, base):
        for part in (states, small, first):
            status, body = contribute(base, token, part)
            assert status == 201, body[:500]
            sent[json.loads(body)["id"]] = len(part)
        assert request(base + "/sparql?" + urlencode({"query": ask_first}))[0] == 200  # leaves a snapshot
        begun = transactions_begun(probe)

        answer: list[tuple[int, bytes]] = []
        probe.with_suffix(".pause").touch()  # this contribution's transaction is paused from inside
        sender = threading.Thread(target=lambda: answer.append(contribute(base, token, interrupted)))
        sender.start()
        deadline = time.monotonic() + 120
        while not paused_inside(probe):  # validated, reasoned, written inside the transaction
            assert sender.is_alive() and time.monotonic() < deadline, answer
            time.sleep(0.005)
        assert transactions_begun(probe) == begun + 1
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        sender.join(timeout=30)
        assert answer == [(0, b"")], "the interrupted contribution must not be acknowledged"

    left = list((tmp_path / ".store.snapshots").iterdir())  # the query workers' snapshot
    assert left
    with server(store, tokens) as (proc, base):  # the same store opens again
        status, body = request(base + "/healthz")
        assert status == 200 and json.loads(body)["status"] == "ok"
        assert not any(p.exists() for p in left)
        status, body = request(base + "/sparql?" + urlencode({"query": ask_first}), Accept="application/json")
        assert status == 200 and json.loads(body)["boolean"] is True
        status, body = request(base + "/contributions?limit=100", Accept="application/json")
        listed = {item["id"]: item["triples"] for item in json.loads(body)["items"]}
        assert listed == sent  # every acknowledged one, with its triple count; nothing else
        for cid in sent:
            assert request(f"{base}/contributions/{cid}", Accept="application/json")[0] == 200

    kb = KnowledgeBase(store)
    try:
        graphs = kb.graphs()
        assert sorted(g for g in graphs if g.startswith(CONTRIBUTION_GRAPH_BASE)) == sorted(
            contribution_graph_iri(c) for c in sent
        )
        assert sorted(g for g in graphs if g.startswith(PROVENANCE_GRAPH_BASE)) == sorted(
            [WRITE_RECORDS_GRAPH, *(provenance_graph_iri(c) for c in sent)]
        )
        recorded = {json.loads(o)["contribution"] for o in write_outcomes(kb)}
        assert recorded == set(sent)  # the record of each acknowledged write, none of the interrupted one
        for cid, n in sent.items():  # each record counts its graph's triples
            assert kb.count(contribution_graph_iri(cid)) == n
            counted = [q.object.value for q in kb.quads([provenance_graph_iri(cid)]) if q.predicate == VOID_TRIPLES]
            assert counted == [str(n)]
        assert_absent(kb, interrupted, set(states) | set(first))
        assert_inferences_recomputed(kb, tmp_path / "recomputed")
    finally:
        kb.close()


def test_bulk_load_killed_before_its_commit(tmp_path: Path, shipped_store: KnowledgeBase) -> None:
    store, big = tmp_path / "store", tmp_path / "big.nt"
    shipped_store.snapshot(store)
    before = KnowledgeBase(store)
    dump = before.dump()
    before.close()
    triples = generate(3000, seed=11)
    big.write_bytes(ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b"")

    load = subprocess.Popen(
        [sys.executable, "-c", PAUSED_VALIDATION_CLI, "--store", str(store), "load", str(big)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    assert load.stdout is not None
    assert load.stdout.readline() == b"validating\n"  # parsed, the store open, its commit not begun
    assert has_open(load.pid, store)
    os.killpg(load.pid, signal.SIGKILL)
    out, _ = load.communicate(timeout=30)
    assert load.returncode == -signal.SIGKILL and b"loaded" not in out

    kb = KnowledgeBase(store)  # opens again
    try:
        assert data_graph_iri(big.stem) not in kb.graphs()
        assert kb.dump() == dump  # byte for byte the store before: its inferences still agree with it
    finally:
        kb.close()


# the CLI, with a large load's validation paused in the child process it runs in: the child
# prints "validating PID" and waits for ever; the command prints "waiting" when it has reasoned
# over the load (its graphs loading early) and waits for the child's report
PAUSED_CHILD_CLI = textwrap.dedent(
    """
    import os, sys, threading
    from allianceld import forked
    from allianceld.validation.compiled import SparqlValidator
    def paused(self, *parts):
        print("validating", os.getpid(), flush=True)
        threading.Event().wait()
    SparqlValidator.detached = paused
    result = forked.Forked.result
    def waiting(self):
        print("waiting", flush=True)
        return result(self)
    forked.Forked.result = waiting
    from allianceld.cli import main
    main(sys.argv[1:], prog_name="allianceld")
    """
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the child's death signal is Linux's")
def test_bulk_load_killed_while_its_validation_runs_beside(tmp_path: Path, shipped_store: KnowledgeBase) -> None:
    """A large load is validated in a child process while its graphs load early: the command
    killed there (its graphs partly in the store, their journal beside it) takes the child with
    it, and the store opens again as it was before."""
    store, big = tmp_path / "store", tmp_path / "big.nt"
    shipped_store.snapshot(store)
    before = KnowledgeBase(store)
    dump = before.dump()
    before.close()
    big.write_bytes(ox.serialize(generate(25_000, seed=11), format=ox.RdfFormat.N_TRIPLES) or b"")

    load = subprocess.Popen(
        [sys.executable, "-c", PAUSED_CHILD_CLI, "--store", str(store), "load", str(big)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "ALLIANCELD_DL_CHECKS": "off"},
    )
    assert load.stdout is not None
    said = sorted(load.stdout.readline().split() for _ in range(2))
    assert said[0] == [b"validating", said[0][1]] and said[1] == [b"waiting"]
    child = int(said[0][1])
    assert child != load.pid
    assert bulk_write.journal_path(store).exists()  # its graphs began loading
    watch = os.pidfd_open(child)
    try:
        load.kill()  # the command only
        load.wait(timeout=30)
        assert select.select([watch], [], [], 60)[0], "the validating child outlived the command"
    finally:
        os.close(watch)

    kb = KnowledgeBase(store)  # opens again, the journal rolled back
    try:
        assert data_graph_iri(big.stem) not in kb.graphs()
        assert kb.dump() == dump
        assert not bulk_write.journal_path(store).exists()
    finally:
        kb.close()


# a bare KnowledgeBase.write whose one transaction (a single pyoxigraph update) ends with the
# paused operation: it prints "inside the transaction" once the write's own operations have run
WRITER = textwrap.dedent(
    f"""
    import sys, threading
    import pyoxigraph as ox
    from allianceld.store import KnowledgeBase, bulk_write

    kb = KnowledgeBase(sys.argv[1])
    p = ox.NamedNode("http://example.org/p")
    def triples(n, tag):
        return [ox.Triple(ox.NamedNode(f"http://example.org/{{tag}}/{{i}}"), p, ox.Literal(i)) for i in range(n)]
    kb.write({{"http://example.org/acknowledged": triples(1000, "a")}})
    def inside():
        print("inside the transaction", flush=True)
        threading.Event().wait()
    def paused(sparql):
        kb.backend.store.update(sparql + {PAUSED_TAIL!r}, custom_functions={{ox.NamedNode({PAUSE!r}): inside}})
    kb.backend.update = paused
    kb.write(
        {{"http://example.org/big": triples(int(sys.argv[2]), "b"), "http://example.org/acknowledged": []}},
        add={{"http://example.org/other": triples(10, "c")}},
        then=["INSERT {{ GRAPH <http://example.org/copy> {{ ?s ?p ?o }} }} "
              "WHERE {{ GRAPH <http://example.org/big> {{ ?s ?p ?o }} }}"],
    )
    print("committed", flush=True)
    """
)


def test_a_write_killed_inside_its_transaction_changes_nothing(tmp_path: Path) -> None:
    """``KnowledgeBase.write`` (what every commit ends in) SIGKILLed inside the store's
    transaction: none of its parts (replaced graphs, an emptied one, added triples, the update
    after them) is on disk, and the write acknowledged before it is."""
    store = tmp_path / "store"
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(store), "10000"], stdout=subprocess.PIPE, start_new_session=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline() == b"inside the transaction\n"
    os.killpg(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL
    assert b"committed" not in proc.stdout.read()

    kb = KnowledgeBase(store)
    try:
        assert kb.graphs() == ["http://example.org/acknowledged"]
        assert kb.count("http://example.org/acknowledged") == 1000
    finally:
        kb.close()
