"""What Virtuoso does with a SPARQL update whose client goes away (docs/operations.md, "Virtuoso").

Starts Virtuoso (Debian's ``virtuoso-opensource``, as the tests do: tests/virtuoso.py) on 127.0.0.1,
then sends an update of ``--graphs`` ``INSERT DATA`` operations of ``--triples`` triples each, over a
raw socket, ``--tries`` times in each way:

- awaited: the client waits for the answer (the figure: how long the update takes);
- closed: the client sends the whole update and closes the connection at once;
- half: the client sends half of the update's body and closes the connection;
- one operation: as "closed", with one ``INSERT DATA`` holding all the graphs.

Reported: how many of the graphs each try left in the store, once their count stops changing.

    .venv/bin/python benchmarks/bench_virtuoso_vanished_client.py [--graphs 20] [--triples 3000] [--tries 5]
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from virtuoso import virtuoso_serve  # the tests' Virtuoso: its settings and its start

PREFIX = "http://vanished.example/"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _graphs(endpoint: str) -> int:
    """How many of the benchmark's graphs hold a triple."""
    ours = f"FILTER(STRSTARTS(STR(?g), '{PREFIX}'))"
    query = f"SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE {{ GRAPH ?g {{ ?s ?p ?o }} {ours} }}"
    request = urllib.request.Request(
        endpoint + "?" + urllib.parse.urlencode({"query": query}), headers={"Accept": "application/sparql-results+json"}
    )
    with urllib.request.urlopen(request, timeout=600) as resp:
        return int(json.load(resp)["results"]["bindings"][0]["n"]["value"])


def _send(endpoint: str, update: str, how: str) -> float:
    """Send ``update`` to ``endpoint`` over a socket of its own; the seconds until the answer ("awaited")
    or until the connection is closed."""
    url = urllib.parse.urlsplit(endpoint)
    body = urllib.parse.urlencode({"update": update}).encode()
    head = (
        f"POST {url.path} HTTP/1.1\r\nHost: {url.netloc}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    start = time.perf_counter()
    with socket.create_connection((url.hostname, url.port)) as conn:
        conn.sendall(head + (body[: len(body) // 2] if how == "half" else body))
        if how == "awaited":
            answer = conn.recv(64)
            assert answer.startswith(b"HTTP/1.1 200"), answer
    return time.perf_counter() - start


def _settled(endpoint: str, quiet_s: float = 2.0) -> int:
    """The number of graphs once it has not changed for ``quiet_s`` seconds."""
    last, since = _graphs(endpoint), time.monotonic()
    while time.monotonic() - since < quiet_s:
        time.sleep(0.2)
        now = _graphs(endpoint)
        if now != last:
            last, since = now, time.monotonic()
    return last


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--graphs", type=int, default=20)
    parser.add_argument("--triples", type=int, default=3000, help="triples per graph")
    parser.add_argument("--tries", type=int, default=5)
    args = parser.parse_args()
    blocks = [
        f"GRAPH <{PREFIX}{i}> {{ "
        + " ".join(f'<{PREFIX}s/{j}> <{PREFIX}p> "{i}-{j}" .' for j in range(args.triples))
        + " }"
        for i in range(args.graphs)
    ]
    operations = " ;\n".join(f"INSERT DATA {{ {block} }}" for block in blocks)
    one = "INSERT DATA { " + " ".join(blocks) + " }"
    drop = " ;\n".join(f"DROP SILENT GRAPH <{PREFIX}{i}>" for i in range(args.graphs))
    with tempfile.TemporaryDirectory() as folder, virtuoso_serve(Path(folder), _free_port(), _free_port()) as endpoint:
        print(f"{args.graphs} graphs of {args.triples} triples, {len(operations) / 1e6:.1f} MB")
        for name, how, update in (
            ("awaited", "awaited", operations),
            ("closed", "closed", operations),
            ("half", "half", operations),
            ("one operation", "closed", one),
        ):
            left = []
            for _ in range(args.tries):
                _send(endpoint, drop, "awaited")
                seconds = _send(endpoint, update, how)
                left.append(_settled(endpoint))
            extra = f"; the last took {seconds:.2f} s" if how == "awaited" else ""
            print(f"{name:>14}: graphs left {left} of {args.graphs}{extra}")


if __name__ == "__main__":
    main()
