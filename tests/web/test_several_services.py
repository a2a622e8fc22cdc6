"""Two allianceld services over one remote store: real `allianceld serve` processes on 127.0.0.1 over
one on-disk `oxigraph serve`, writing at once. Process A reaches the store through a proxy
(:mod:`stalling_proxy`) that holds A's first update (its claim of the store's write lease, which a
write takes before it reads anything) before the store until process B's write has landed: A's write,
begun first, must be made from the state B's left. The order of events is set by the proxy's events,
never by sleeping."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest

from allianceld.config import Settings
from allianceld.reasoning import materialise
from allianceld.store import KnowledgeBase
from allianceld.store.backends import SparqlBackend
from allianceld.tokens import TokenStore
from allianceld.vocab import INFERRED_GRAPH, is_inferred_graph
from allianceld.write import gate
from allianceld.write.write_policy import WritePolicy
from conftest import SMALL_WORLD, TEST_DATA, free_port, oxigraph_serve, wait_for
from web.stalling_proxy import StallingProxy

pytestmark = pytest.mark.server

RECORDS = (TEST_DATA / "valid" / "alliance-with-treaty-and-members.ttl").read_text()
PREFIXES = "".join(line + "\n" for line in RECORDS.splitlines() if line.startswith("@prefix"))
PROVISION = 'provision:test-pact-treaty-art-3 a ald:DefenceProvision ; ald:article "Article 3" .\n'
# the alliance, its treaty and members without the treaty's defence provision; the provision alone.
# Only both together make the alliance a collective-defence alliance (OWL 2 RL: inferred)
ALLIANCE = RECORDS.replace("    ald:hasProvision provision:test-pact-treaty-art-3 ;\n", "").replace(PROVISION, "")
PROVISION_ONLY = PREFIXES + "treaty:test-pact-treaty ald:hasProvision provision:test-pact-treaty-art-3 .\n" + PROVISION
PACT = "https://w3id.org/allianceld/id/alliance/test-pact"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
COLLECTIVE = "https://w3id.org/allianceld/ontology#CollectiveDefenceAlliance"


@dataclass
class Service:
    base: str
    token: str

    def call(self, method: str, path: str, body: bytes | None = None, **headers: str) -> tuple[int, Any]:
        """``method path`` with the contributor's token: the status and the JSON answer."""
        req = urllib.request.Request(
            self.base + path,
            data=body,
            method=method,
            headers={"Authorization": f"Bearer {self.token}", "Accept": "application/json", **headers},
        )
        try:
            with urllib.request.urlopen(req, timeout=120) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def contribute(self, turtle: str, **headers: str) -> tuple[int, Any]:
        return self.call("POST", "/contributions", turtle.encode(), **{"Content-Type": "text/turtle", **headers})


@dataclass
class Deployment:
    store: str  # the oxigraph server, asked directly
    proxy: StallingProxy  # between A and the store
    a: Service
    b: Service

    def kb(self) -> KnowledgeBase:
        return KnowledgeBase(backend=SparqlBackend(self.store + "/query", self.store + "/update"))


def _serve(tmp: Path, name: str, store: str, tokens: Path) -> tuple[subprocess.Popen, str]:
    """``allianceld serve`` over the remote store at ``store``, on a free port: the process and its URL."""
    port = free_port()
    env = {
        **os.environ,
        "ALLIANCELD_SPARQL_QUERY_URL": store + "/query",
        "ALLIANCELD_SPARQL_UPDATE_URL": store + "/update",
        "ALLIANCELD_TOKENS": str(tokens),
        "ALLIANCELD_DL_CHECKS": "off",
        "ALLIANCELD_STORE": str(tmp / f"unused-{name}"),
    }
    log = (tmp / f"{name}.log").open("wb")  # a file: a pipe nobody reads would fill and stop the server
    proc = subprocess.Popen(
        [sys.executable, "-m", "allianceld.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    wait_for(base + "/healthz", proc, seconds=90)
    return proc, base


@pytest.fixture
def deployment(tmp_path: Path, settings: Settings, write_policy: WritePolicy) -> Iterator[Deployment]:
    """An on-disk `oxigraph serve` with the small world; service A through the proxy, B straight to it."""
    with oxigraph_serve("--location", str(tmp_path / "oxigraph")) as store:
        kb = KnowledgeBase(backend=SparqlBackend(store + "/query", store + "/update"))
        files = [settings.data_dir / f"{name}.ttl" for name in SMALL_WORLD]
        gate.commit(kb, write_policy, gate.shipped_sources(settings.ontology_file, files))
        host, port = store.removeprefix("http://").split(":")
        proxy = StallingProxy((host, int(port)))
        tokens = tmp_path / "tokens.json"
        token = TokenStore(tokens).create("alice", "contributor")
        procs = []
        try:
            proc_a, base_a = _serve(tmp_path, "a", proxy.url, tokens)
            procs.append(proc_a)
            proc_b, base_b = _serve(tmp_path, "b", store, tokens)
            procs.append(proc_b)
            yield Deployment(store, proxy, Service(base_a, token), Service(base_b, token))
        finally:
            proxy.close()
            for proc in procs:
                proc.terminate()
                proc.wait(timeout=30)


def _held_write(
    deployment: Deployment, turtle: str, other: str, **headers: str
) -> tuple[tuple[int, Any], tuple[int, Any]]:
    """A contributes ``turtle``; its first update (its claim of the write lease) is held before the store
    until B's contribution of ``other`` has been answered (both with ``headers``). The answers of A and B."""
    held = deployment.proxy.hold("request", lease=True)
    answers: dict[str, tuple[int, Any]] = {}
    writer = threading.Thread(target=lambda: answers.setdefault("a", deployment.a.contribute(turtle, **headers)))
    writer.start()
    assert held.arrived.wait(120), "A's update did not come"  # A's write has begun
    answer_b = deployment.b.contribute(other, **headers)  # lands while A's update waits
    held.release.set()
    writer.join(120)
    return answers["a"], answer_b


def _recomputed(kb: KnowledgeBase, write_policy: WritePolicy) -> dict[str, set[ox.Triple]]:
    """The derived graphs (OWL 2 RL and each domain rule) recomputed in full from a copy of the asserted ones."""
    copy = KnowledgeBase()
    copy.replace_graphs({g: kb.triples(g) for g in kb.asserted_graphs()})
    materialise.materialise(copy, write_policy.rules)
    return {g: set(copy.triples(g)) for g in copy.graphs() if is_inferred_graph(g)}


def test_concurrent_writes_of_two_services_are_each_made_from_the_state_they_land_on(
    deployment: Deployment, write_policy: WritePolicy
) -> None:
    """Neither contribution alone makes the pact a collective-defence alliance; both do. A's write began
    before B's landed: it is made from the store with B's, not from the state before it."""
    (status_a, made_a), (status_b, made_b) = _held_write(deployment, ALLIANCE, PROVISION_ONLY)
    assert (status_a, status_b) == (201, 201), (made_a, made_b)
    kb = deployment.kb()
    listed = deployment.b.call("GET", "/contributions")[1]
    assert sorted(c["id"] for c in listed["items"]) == sorted([made_a["id"], made_b["id"]])
    for made in (made_a, made_b):  # each stored once, with its record
        assert kb.triples(made["graph"]) and kb.triples(made["record"])
    derived = {g: set(kb.triples(g)) for g in kb.graphs() if is_inferred_graph(g)}
    assert derived == _recomputed(kb, write_policy)
    pact = ox.Triple(ox.NamedNode(PACT), ox.NamedNode(RDF_TYPE), ox.NamedNode(COLLECTIVE))
    assert pact in derived[INFERRED_GRAPH]


def test_the_same_data_sent_to_two_services_at_once_is_stored_once(deployment: Deployment) -> None:
    """A's write began before B's with the same data landed; it finds B's."""
    (status_a, answer_a), (status_b, made_b) = _held_write(deployment, RECORDS, RECORDS)
    assert status_b == 201, made_b
    assert status_a == 409 and answer_a["error"] == "duplicate-contribution", answer_a
    assert answer_a["id"] == made_b["id"]
    for service in (deployment.a, deployment.b):
        listed = service.call("GET", "/contributions")[1]
        assert [c["id"] for c in listed["items"]] == [made_b["id"]]


def test_one_idempotency_key_sent_to_two_services_at_once_is_written_once(deployment: Deployment) -> None:
    """A's write began before B's with the same key landed; it finds B's record."""
    key = {"Idempotency-Key": "one-key-two-services"}
    (status_a, answer_a), (status_b, made_b) = _held_write(deployment, ALLIANCE, PROVISION_ONLY, **key)
    assert status_b == 201, made_b
    assert status_a == 409 and answer_a["error"] == "idempotency-key-landed", answer_a
    assert answer_a["check"] == "/writes/one-key-two-services"
    listed = deployment.a.call("GET", "/contributions")[1]
    assert [c["id"] for c in listed["items"]] == [made_b["id"]]


def test_a_read_from_one_service_sees_a_write_acknowledged_by_the_other(deployment: Deployment) -> None:
    """B's cached index of names (reconciliation) is not served stale after A's acknowledged write."""
    ask = "/reconcile?queries=" + urllib.parse.quote(json.dumps({"q0": {"query": "Test Pact"}}))
    status, before = deployment.b.call("GET", ask)
    assert status == 200 and not [r for r in before["q0"]["result"] if r["id"].endswith("test-pact")]
    status, made = deployment.a.contribute(RECORDS)
    assert status == 201, made
    status, after = deployment.b.call("GET", ask)
    assert [r for r in after["q0"]["result"] if r["id"].endswith("test-pact")], after
    assert deployment.b.call("GET", f"/contributions/{made['id']}")[0] == 200
