"""The allianceld command line. Exit codes: 0 success, 1 invalid data or inconsistency, 2 error."""

from __future__ import annotations

import contextlib
import dataclasses
import getpass
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import click
import pyoxigraph as ox

from allianceld import logs
from allianceld.config import Settings, parse_allowlist
from allianceld.errors import AllianceldError, ValidationFailed, WriteOutcomeUnknown
from allianceld.linking import discovery
from allianceld.operations import backup, export, file_writes, migration, remote_write, server_record
from allianceld.rdf import formats
from allianceld.reasoning import domain_rules, materialise
from allianceld.store import KnowledgeBase, federation
from allianceld.tokens import ROLES, TokenStore, env_entry, new_token, parse_token_hashes
from allianceld.validation.validator import Validator
from allianceld.vocab import ALD
from allianceld.write import contributions, gate, graph_policy, write_records
from allianceld.write.write_policy import WritePolicy

RESULT_FORMATS = {
    "json": ox.QueryResultsFormat.JSON,
    "xml": ox.QueryResultsFormat.XML,
    "csv": ox.QueryResultsFormat.CSV,
    "tsv": ox.QueryResultsFormat.TSV,
}
GRAPH_FORMATS = {
    "turtle": ox.RdfFormat.TURTLE,
    "nt": ox.RdfFormat.N_TRIPLES,
    "jsonld": ox.RdfFormat.JSON_LD,
    "rdfxml": ox.RdfFormat.RDF_XML,
}


class Failure(click.ClickException):
    """An error the user can fix (bad file, store in use): message on stderr, exit code 2."""

    exit_code = 2


def _settings(ctx: click.Context) -> Settings:
    store = ctx.obj["store"]
    return Settings(store_path=Path(store)) if store else Settings()


def _require_store(settings: Settings) -> None:
    """Refuse a store path that does not exist (a mistyped --store): only ``init`` makes a store."""
    if not settings.sparql_query_url and not (settings.store_path and settings.store_path.is_dir()):
        raise Failure(f"no store at {settings.store_path}: run 'allianceld init' first")


def _open_kb(settings: Settings, *, read_only: bool = False, create: bool = False) -> KnowledgeBase:
    """The store of ``settings``; only ``create`` (``init``) makes a new one (:func:`_require_store`)."""
    if not create:
        _require_store(settings)
    try:
        return KnowledgeBase.from_settings(settings, read_only=read_only)
    except OSError as exc:
        found = server_record.live(settings.store_path) if settings.store_path else None
        if found is not None:  # load and import hand their write to it (_kb_or_server)
            raise Failure(
                f"the allianceld server at {found[0]} (process {found[1]}) holds the store at {settings.store_path}: "
                "stop it first (load and import write through it)"
            ) from None
        raise Failure(
            f"cannot open the store at {settings.store_path}: {exc} "
            "(is another allianceld process, such as the server, using it?)"
        ) from None


def _kb_or_server(settings: Settings, server: str | None) -> KnowledgeBase | str:
    """The store to write, opened; or the URL of the server to hand the write to: ``server``
    (--server), else the server recorded for the store when it holds the store."""
    if server:
        return server
    try:
        kb = _open_kb(settings)
    except Failure:
        found = server_record.live(settings.store_path) if settings.store_path else None
        if found is None:
            raise
        click.echo(f"the server at {found[0]} holds the store: the write goes through it", err=True)
        return found[0]
    kb.unshared = True  # this command's write is the store's only user: a large one may load early
    return kb


def _say(line: str, err: bool) -> None:
    click.echo(line, err=err)


#: the exit code of a write whose outcome is unknown (the store or the server did not answer in time)
OUTCOME_UNKNOWN = 3


def _outcome_unknown(message: str, key: str) -> None:
    """Say that the write's outcome is unknown, how to find it out or retry safely, and exit 3."""
    click.echo(
        f"outcome unknown: {message}\nthe write's idempotency key is {key}: the same command with "
        f"--idempotency-key {key} writes nothing if this write landed (a server over the store answers "
        f"GET /writes/{key})",
        err=True,
    )
    sys.exit(OUTCOME_UNKNOWN)


def _write_key(
    kb: KnowledgeBase, key: str | None, command: str, agent: str | None
) -> tuple[str, dict[str, list[ox.Triple]]]:
    """The command's write's key (``key``, default: a new one) and its record; when a write with that
    key already landed, say so and exit 0 without writing."""
    try:
        key = write_records.check_key(key) if key is not None else write_records.new_key()
    except AllianceldError as exc:
        raise Failure(exc.message) from None
    found = write_records.landed(kb, key)
    if found is not None:
        kb.close()
        click.echo(f"already written: the write with idempotency key {key} landed at {found.at}", err=True)
        sys.exit(0)
    return key, write_records.record(key, write_records.Outcome(200, command, agent))


def _by_server(
    url: str, token_env: str, kind: str, files: tuple[Path, ...], params: dict[str, str], key: str | None
) -> Any:
    """Hand the write to the server at ``url`` (:mod:`remote_write`), a bar showing the upload;
    print what the server reports and end as the command would offline."""
    key = key or write_records.new_key()
    try:
        bearer = remote_write.token(token_env)
        total = remote_write.body_size(list(files), with_base=kind == "rdf")
        with click.progressbar(length=total, label="uploading", file=sys.stderr, show_percent=True) as bar:
            answer = remote_write.send(url, kind, list(files), params, bearer, progress=bar.update, key=key)
    except remote_write.RemoteFailed as exc:
        raise Failure(exc.message) from None
    except remote_write.OutcomeUnknown as exc:
        _outcome_unknown(exc.message, exc.key or key)
    for line, err in answer.lines:
        click.echo(line, err=err)
    if answer.failure:
        raise Failure(answer.failure)
    return answer


_SERVER = click.option(
    "--server",
    metavar="URL",
    help="Hand the write to the running server at URL (POST /import/...). Without it, a write to a store "
    "the server holds goes to that server.",
)
_TOKEN_ENV = click.option(
    "--token-env",
    metavar="VAR",
    default=remote_write.TOKEN_ENV,
    show_default=True,
    help="The environment variable holding a contributor's or admin's token, for a write through the server.",
)
_KEY = click.option(
    "--idempotency-key",
    "key",
    metavar="KEY",
    help="The write's id (default: a new one). A write with a KEY that already landed is not written again.",
)


def _read(paths: tuple[Path, ...], graph: str | None = None) -> list[gate.Source]:
    try:
        return [gate.read_file(p, graph) for p in paths]
    except AllianceldError as exc:
        raise Failure(exc.message) from None


class _Commands(click.Group):
    """The command group: an allianceld error no command handles (such as a shapes graph that is
    not well-formed SHACL) ends the command with its message, not a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AllianceldError as exc:
            raise Failure(f"{exc.kind}: {exc.message}") from None


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--store",
    envvar="ALLIANCELD_STORE",
    type=click.Path(file_okay=False),
    help="Store directory (default: var/store, or $ALLIANCELD_STORE).",
)
@click.version_option(package_name="allianceld")
@click.pass_context
def main(ctx: click.Context, store: str | None) -> None:
    """allianceld: a linked-data knowledge base of military alliances and partnerships."""
    ctx.ensure_object(dict)
    ctx.obj["store"] = store


@main.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Load the shipped ontology and curated data into the store (validated), then reason."""
    settings = _settings(ctx)
    kb = _open_kb(settings, create=True)
    try:
        sources = gate.shipped_sources(settings.ontology_file, settings.data_files())
    except AllianceldError as exc:
        raise Failure(exc.message) from None
    location = kb.location
    try:
        result = gate.commit(kb, WritePolicy.from_settings(settings), sources)
    except ValidationFailed as exc:
        click.echo(exc.report.to_text(), err=True)
        sys.exit(1)
    finally:
        kb.close()
    click.echo(f"loaded {result.triples} triples into {len(result.graphs)} graphs at {location}")
    if result.reasoning:
        click.echo(f"inferred {result.reasoning.inferred} triples with {result.reasoning.reasoner}")


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--graph", help="Named graph IRI for all files (default: one graph per file, named after it).")
@click.option("--force", is_flag=True, help="Write even if the data violates the shapes (says so).")
@_SERVER
@_TOKEN_ENV
@_KEY
@click.pass_context
def load(
    ctx: click.Context,
    files: tuple[Path, ...],
    graph: str | None,
    force: bool,
    server: str | None,
    token_env: str,
    key: str | None,
) -> None:
    """Validate FILES with the store's data and load them atomically (all or nothing). While the
    server holds the store, the server writes them (with the token of --token-env)."""
    settings = _settings(ctx)
    target = _kb_or_server(settings, server)
    if isinstance(target, str):
        params = {"graph": graph} if graph else {}
        sys.exit(_by_server(target, token_env, "rdf", files, {**params, "force": str(force).lower()}, key).code)
    kb = target
    try:
        policy = WritePolicy.from_settings(settings)
        policy.warm(one_shot=True)  # HermiT's Java starts while the files are read
        sources = _read(files, graph)
        # a change of curated data is recorded with the operator's name (graph_policy.change_record)
        operator = graph_policy.Writer("admin", agent=getpass.getuser())
        used, record = _write_key(kb, key, "allianceld load", operator.agent)
        code = file_writes.load(kb, policy, sources, force=force, writer=operator, say=_say, write_record=record)
        del sources  # freed before the store's closing collects cycles (which would walk them all)
    except file_writes.CommandFailed as exc:
        raise Failure(exc.message) from None
    except WriteOutcomeUnknown as exc:
        _outcome_unknown(exc.message, used)
    finally:
        kb.close()
    sys.exit(code)


@main.command()
@click.argument("query")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", *RESULT_FORMATS, *GRAPH_FORMATS]),
    default="table",
    show_default=True,
    help="Output format (table for SELECT/ASK; turtle for CONSTRUCT/DESCRIBE).",
)
@click.option("--no-inference", is_flag=True, help="Query asserted triples only.")
@click.pass_context
def query(ctx: click.Context, query: str, fmt: str, no_inference: bool) -> None:
    """Run a SPARQL QUERY (the text, or a file holding it, whose relative IRIs resolve against the file's)."""
    path = Path(query)
    from_file = len(query) < 4096 and path.is_file()
    text = path.read_text(encoding="utf-8") if from_file else query
    settings = _settings(ctx)
    try:
        allowlist = settings.service_endpoints
    except ValueError as exc:
        raise Failure(f"ALLIANCELD_SERVICE_ALLOWLIST: {exc}") from None
    kb = _open_kb(settings, read_only=True)
    try:
        endpoints = federation.check_query(text, allowlist)  # before anything connects

        def run() -> str:
            base = formats.file_iri(path) if from_file else None
            return _format(kb.query(text, inference=not no_inference, base_iri=base), fmt)

        out = federation.run_with_deadline(run, settings.service_timeout, endpoints) if endpoints else run()
        click.echo(out, nl=False)
    except AllianceldError as exc:
        raise Failure(exc.message) from None
    finally:
        kb.close()


@main.command("export")
@click.argument("output", required=False, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(export.FORMATS),
    default="nquads",
    show_default=True,
    help="nquads or trig: one file (stdout without OUTPUT); turtle: one file per graph with manifest.json, "
    "in the directory OUTPUT, or a zip file when OUTPUT ends in .zip.",
)
@click.option("--no-inference", is_flag=True, help="Leave out the inferred graphs (OWL 2 RL and domain rules).")
@click.option("--base", help="The service's URL, for the VoID description (default: http://HOST:PORT/).")
@click.pass_context
def export_command(ctx: click.Context, output: Path | None, fmt: str, no_inference: bool, base: str | None) -> None:
    """Export the whole dataset (every named graph) with its VoID description, ready to load into
    another store. Reads a consistent state of the store, also while the server runs."""
    settings = _settings(ctx)
    if fmt == "turtle" and output is None:
        raise click.UsageError("--format turtle writes several files: give an OUTPUT directory or .zip file")
    base = base or f"http://{settings.host}:{settings.port}/"
    if not base.endswith("/"):
        base += "/"
    kb = _open_kb(settings, read_only=True)
    try:
        with export.consistent_view(kb) as view:
            graphs = export.exported_graphs(view, inference=not no_inference)
            total = sum(export.count_quads(view, graphs).values())
            bar = click.progressbar(length=total, label="exporting", file=sys.stderr, show_pos=True)
            show = output is not None and total > 0
            with bar if show else contextlib.nullcontext(bar):
                progress = bar.update if show else None
                if fmt == "turtle":
                    assert output is not None
                    files = export.turtle_files(view, base=base, inference=not no_inference, progress=progress)
                    if output.suffix == ".zip":
                        _write(output, export.zip_chunks(files))
                    else:
                        export.write_directory(files, output)
                else:
                    rdf = ox.RdfFormat.TRIG if fmt == "trig" else ox.RdfFormat.N_QUADS
                    chunks = export.nquads_export(
                        view, base=base, inference=not no_inference, fmt=rdf, progress=progress
                    )
                    _write(output, chunks)
    except (AllianceldError, OSError) as exc:
        raise Failure(getattr(exc, "message", None) or str(exc)) from None
    finally:
        kb.close()
    if output is not None:
        click.echo(f"exported {total} quads in {len(graphs)} graphs with their VoID description to {output}", err=True)


def _write(output: Path | None, chunks: Any) -> None:
    """Write ``chunks`` to the file ``output``, or to stdout."""
    if output is None:
        out = sys.stdout.buffer
        for chunk in chunks:
            out.write(chunk)
        out.flush()
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("wb") as f:
        for chunk in chunks:
            f.write(chunk)


def _format(result: Any, fmt: str) -> str:
    if not isinstance(result, ox.QuerySolutions | ox.QueryBoolean):  # a graph
        return (result.serialize(format=GRAPH_FORMATS.get(fmt, ox.RdfFormat.TURTLE)) or b"").decode()
    if isinstance(result, ox.QueryBoolean):
        return json.dumps({"boolean": bool(result)}) + "\n" if fmt == "json" else f"{str(bool(result)).lower()}\n"
    if fmt in RESULT_FORMATS:
        return (result.serialize(format=RESULT_FORMATS[fmt]) or b"").decode()
    names = [v.value for v in result.variables]
    rows = [[(row[n].value if row[n] is not None else "") for n in names] for row in result]
    widths = [max([len(n), *(len(r[i]) for r in rows)]) for i, n in enumerate(names)]
    lines = ["  ".join(n.ljust(w) for n, w in zip(names, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines) + f"\n({len(rows)} rows)\n"


@main.command()
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json", "turtle"]), default="text", show_default=True)
@click.option("--alone", is_flag=True, help="Validate the files by themselves, not with the store's data.")
@click.option(
    "--list-shapes", is_flag=True, help="List the shapes instead: which are compiled, which pySHACL validates and why."
)
@click.pass_context
def validate(ctx: click.Context, files: tuple[Path, ...], fmt: str, alone: bool, list_shapes: bool) -> None:
    """Validate FILES against the shapes (with the store's data); exit 1 on violations."""
    settings = _settings(ctx)
    if list_shapes:
        for shape, kind, reason in Validator.from_settings(settings).shape_plan():
            click.echo(f"{kind:<8}  {shape}" + (f"  ({reason})" if reason else ""))
        return
    if not files:
        raise click.UsageError("give the FILES to validate, or --list-shapes")
    sources = _read(files)
    data = formats.to_rdflib(t for s in sources for t in s.triples)
    validator = Validator.from_settings(settings)
    if alone or not (settings.store_path and settings.store_path.exists()):
        report = validator.validate(data)
    else:
        kb = _open_kb(settings, read_only=True)
        try:
            report = validator.validate(data, kb, replacing=[s.graph for s in sources])
        finally:
            kb.close()
    if fmt == "json":
        click.echo(json.dumps(report.to_json(), indent=2))
    elif fmt == "turtle":
        click.echo(report.to_turtle())
    else:
        click.echo(report.to_text())
    sys.exit(0 if report.accepted else 1)


@main.command()
@click.option("--no-dl", is_flag=True, help="Skip the OWL 2 DL consistency check (HermiT).")
@click.pass_context
def reason(ctx: click.Context, no_dl: bool) -> None:
    """Recompute OWL 2 RL inferences and the domain rules; check OWL 2 DL consistency; exit 1 if inconsistent."""
    settings = _settings(ctx)
    kb = _open_kb(settings)
    try:
        done = materialise.materialise(kb, domain_rules.load_rules(settings.rules_dir))
        click.echo(f"OWL 2 RL ({done.reasoner}): {done.inferred} inferred triples in {done.seconds:.2f} s")
        counts = materialise.derived_counts(kb)
        for prop, n in list(counts["byProperty"].items())[:10]:
            click.echo(f"  {n:6d}  {prop}")
        if no_dl:
            return
        verdict = materialise.kb_consistency(kb, watch=[str(ALD.CollectiveDefenceAlliance)])
    finally:
        kb.close()
    click.echo(f"OWL 2 DL ({verdict.reasoner}): {verdict.message} in {verdict.seconds:.2f} s")
    for cls, members in verdict.classified.items():
        click.echo(f"  {cls}: {len(members)} member(s)")
    if verdict.consistent is False:
        sys.exit(1)


@main.command()
@click.option(
    "--against",
    "dump",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Dump of an external graph (N-Triples, Turtle, ...: by extension), e.g. a Wikidata or DBpedia extract.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the VoID linkset for review (default: <dump name>.linkset.ttl here).",
)
@click.option(
    "--min-confidence",
    type=click.FloatRange(0, 1),
    default=discovery.DEFAULT_MIN_CONFIDENCE,
    show_default=True,
    help="Propose only links at least this confident.",
)
@click.option(
    "--accept-above",
    type=click.FloatRange(0, 1),
    help="Commit the links more confident than this as a contribution (validated, with provenance).",
)
@click.option(
    "--namespace",
    "namespaces",
    multiple=True,
    help="Namespace of the external entities (repeatable; default: Wikidata, DBpedia and GeoNames).",
)
@click.option(
    "--code",
    "codes",
    multiple=True,
    metavar="KIND=PREDICATE",
    help="A predicate of the dump holding a code: KIND is iso2, iso3 or cow (repeatable).",
)
@click.option("--agent", help="Who accepts the links, for the provenance record (default: the login name).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_context
def link(
    ctx: click.Context,
    dump: Path,
    output: Path | None,
    min_confidence: float,
    accept_above: float | None,
    namespaces: tuple[str, ...],
    codes: tuple[str, ...],
    agent: str | None,
    fmt: str,
) -> None:
    """Propose owl:sameAs links from states and alliances lacking them to the entities of an
    external dump, scored by codes, labels and dates; write them as a VoID linkset for review."""
    code_predicates = {}
    for item in codes:
        kind, _, predicate = item.partition("=")
        if kind not in discovery.CODE_KINDS or not predicate.startswith(("http://", "https://")):
            raise click.BadParameter(
                f"{item!r}: expected KIND=PREDICATE, KIND one of {', '.join(discovery.CODE_KINDS)} and an absolute IRI",
                param_hint="'--code'",
            )
        code_predicates[predicate] = kind
    for ns in namespaces:
        if not ns.startswith(("http://", "https://")):
            raise click.BadParameter(f"{ns!r} is not an absolute http(s) IRI", param_hint="'--namespace'")
    settings = _settings(ctx)
    kb = _open_kb(settings, read_only=accept_above is None)
    try:
        proposals = discovery.discover(
            kb,
            dump,
            namespaces=namespaces or discovery.TARGETS,
            code_predicates=code_predicates,
            min_confidence=min_confidence,
        )
        output = output or Path(dump.name.split(".")[0] + ".linkset.ttl")
        output.write_text(discovery.linkset(proposals, dump).serialize(format="turtle"), encoding="utf-8")
        accepted: list[discovery.Proposal] = []
        contribution = None
        if accept_above is not None:
            accepted, contribution, _ = contributions.accept_links(
                kb,
                WritePolicy.from_settings(settings),
                proposals,
                above=accept_above,
                dump=dump,
                agent=agent or getpass.getuser(),
            )
    except ValidationFailed as exc:
        click.echo(exc.report.to_text(), err=True)
        click.echo("refused: no link was written", err=True)
        sys.exit(1)
    except AllianceldError as exc:
        raise Failure(exc.message) from None
    finally:
        kb.close()
    if fmt == "json":
        click.echo(
            json.dumps(
                {
                    "linkset": str(output),
                    "proposals": [p.to_json() for p in proposals],
                    "accepted": [p.to_json() for p in accepted],
                    "contribution": contribution.to_json() if contribution else None,
                },
                indent=2,
            )
        )
        return
    for p in proposals:
        mark = "+" if p in accepted else " "
        click.echo(f"{mark} {p.confidence:.3f}  {p.local}  owl:sameAs  {p.external}  [{p.evidence()}]")
    click.echo(f"{len(proposals)} link(s) proposed; VoID linkset written to {output}")
    if accept_above is not None:
        where = f" as contribution {contribution.id}" if contribution else ""
        click.echo(f"{len(accepted)} link(s) above {accept_above} committed{where}")


@main.group("import")
def import_() -> None:
    """Import the ATOP or COW alliance data sets (CSV files as published) through the write gate."""


def _import(
    ctx: click.Context,
    kind: str,
    files: tuple[Path, ...],
    partial: bool,
    report: Path | None,
    server: str | None,
    token_env: str,
    key: str | None,
) -> None:
    from allianceld.importers.report import default_path, write_report

    settings = _settings(ctx)
    store = settings.store_path if not settings.sparql_query_url else None
    target = _kb_or_server(settings, server)
    if isinstance(target, str):
        params = {"partial": str(partial).lower()}
        params |= {"report": str(report)} if report else {"store": str(store)} if store else {}
        answer = _by_server(target, token_env, kind, files, params, key)
        if answer.report_csv is not None and answer.graph:
            path = report or default_path(store, answer.graph)
            try:
                _write_text(path, answer.report_csv)
            except OSError as exc:
                done = "the import was written" if answer.code == 0 else "nothing was written"
                raise Failure(f"cannot write the report {path}: {exc}; {done}") from None
        sys.exit(answer.code)
    kb = target

    @contextlib.contextmanager
    def bar(total: int) -> Any:
        with click.progressbar(length=total, label=f"reading {kind}", file=sys.stderr, show_pos=True) as shown:
            yield lambda: shown.update(1)

    try:
        policy = WritePolicy.from_settings(settings)
        policy.warm(one_shot=True)  # HermiT's Java starts while the files are read
        used, record = _write_key(kb, key, f"allianceld import {kind}", None)
        code = file_writes.import_files(
            kb,
            policy,
            kind,
            list(files),
            partial=partial,
            report_for=lambda graph: report or default_path(store, graph),
            write_report=write_report,
            say=_say,
            progress=bar,
            write_record=record,
        )
    except file_writes.CommandFailed as exc:
        raise Failure(exc.message) from None
    except WriteOutcomeUnknown as exc:
        _outcome_unknown(exc.message, used)
    finally:
        kb.close()
    sys.exit(code)


def _write_text(path: Path, text: str) -> None:
    """Write ``path`` whole or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    part.write_text(text, encoding="utf-8", newline="")
    os.replace(part, path)


_PARTIAL = click.option(
    "--partial",
    is_flag=True,
    help="Import the rows that can be placed and leave out the others (listed in the report).",
)
_REPORT = click.option(
    "--report",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the report of rows left out and warnings (CSV; default: beside the store, "
    "<store>.import-<data set>.csv).",
)


def _import_command(kind: str, summary: str) -> click.Command:
    """The ``import KIND`` command: its files, options and the help line ``summary`` (:func:`_import`)."""

    @import_.command(kind, help=summary)
    @click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @_PARTIAL
    @_REPORT
    @_SERVER
    @_TOKEN_ENV
    @_KEY
    @click.pass_context
    def command(ctx: click.Context, **options: Any) -> None:
        _import(ctx, kind, **options)

    return command


import_atop = _import_command(
    "atop", "ATOP: the alliance-level and member-level CSV files, and a COW state list (the crosswalk)."
)
import_cow = _import_command(
    "cow",
    "COW Formal Alliances: the member-level or directed-dyad CSV file, and a COW state list (the crosswalk).",
)


@main.group()
def token() -> None:
    """Manage the bearer tokens that writes need."""


@token.command("create")
@click.argument("name")
@click.option("--role", type=click.Choice(list(ROLES)), default="contributor", show_default=True)
@click.option(
    "--env",
    "for_env",
    is_flag=True,
    help="Write no tokens file; print the token's ALLIANCELD_TOKEN_HASHES item (name:role:sha256) on stderr.",
)
@click.pass_context
def token_create(ctx: click.Context, name: str, role: str, for_env: bool) -> None:
    """Create a token for NAME and print it once (only its SHA-256 hash is stored)."""
    settings = _settings(ctx)
    if for_env:
        secret, entry = new_token(name, role)
        try:
            item = env_entry(entry)
        except ValueError as exc:
            raise Failure(str(exc)) from None
        click.echo(f"add to ALLIANCELD_TOKEN_HASHES (comma-separated): {item}", err=True)
        click.echo(f"token for {name} ({role}); it is not shown again:", err=True)
    else:
        secret = TokenStore(settings.tokens_file).create(name, role)
        click.echo(
            f"token for {name} ({role}), stored hashed in {settings.tokens_file}; it is not shown again:", err=True
        )
    click.echo(secret)


@main.command("backup")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--server", metavar="URL", help="Ask the running server at URL to make the backup (POST /admin/backup).")
@click.option(
    "--token-env",
    metavar="VAR",
    default="ALLIANCELD_TOKEN",
    show_default=True,
    help="The environment variable holding an admin's token, for --server.",
)
@click.pass_context
def backup_command(ctx: click.Context, directory: Path | None, server: str | None, token_env: str) -> None:
    """Back up the store into the new directory DIRECTORY: the store at one point between two
    writes, with a manifest. While the server runs, use --server: it makes the backup itself
    (consistent), in ALLIANCELD_BACKUP_DIR, copied to DIRECTORY when given. A remote store is
    dumped as N-Quads, consistent only if no other client writes meanwhile."""
    if server:
        _backup_by_server(server, token_env, directory)
        return
    if directory is None:
        raise Failure("give the backup's DIRECTORY (or --server URL to have the running server make it)")
    settings = _settings(ctx)
    try:
        if settings.sparql_query_url:
            kb = KnowledgeBase.from_settings(settings)
        else:
            assert settings.store_path is not None
            kb = backup.open_for_backup(settings.store_path)
        try:
            if kb.read_only:
                click.echo(
                    "warning: another process (the server?) holds the store: copying a read-only view of it, "
                    "which is consistent only if pyoxigraph's read-only view is (it does not promise so while "
                    "another process writes); use --server URL to have the server make a consistent backup",
                    err=True,
                )
            manifest = backup.backup(kb, directory)
        finally:
            kb.close()
    except (AllianceldError, OSError) as exc:
        raise Failure(f"backup failed: {getattr(exc, 'message', None) or exc}; nothing was written") from None
    click.echo(
        f"backed up {manifest.quads} quads in {manifest.graphs} graphs to {directory} "
        f"({manifest.method}{': ' + manifest.note if manifest.note else ''})"
    )


def _backup_by_server(server: str, token_env: str, directory: Path | None) -> None:
    """POST /admin/backup to ``server`` with the admin token of ``$token_env`` (never from argv,
    where ``ps`` would show it); copy the backup the server wrote to ``directory`` when given."""
    import shutil
    import urllib.error
    import urllib.request

    token = os.environ.get(token_env, "").strip()
    if not token:
        raise Failure(f"--server needs an admin's token in the environment variable {token_env}")
    if directory is not None and directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise Failure(f"{directory} exists and is not empty: a backup goes into a new (or empty) directory")
    url = server.rstrip("/") + "/admin/backup"
    req = urllib.request.Request(url, method="POST", headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(req, timeout=3600) as resp:
            answer = json.load(resp)
    except urllib.error.HTTPError as exc:
        try:
            message = json.load(exc).get("message", "")
        except ValueError:
            message = ""
        raise Failure(f"the server refused the backup: {exc.code} {message or exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise Failure(f"cannot reach the server at {url}: {getattr(exc, 'reason', exc)}") from None
    made, manifest = Path(answer["directory"]), answer["manifest"]
    where = made
    if directory is not None:
        try:
            shutil.copytree(made, directory, dirs_exist_ok=True)  # a copy: hard links fail across file systems
            backup.check(directory)
        except (AllianceldError, OSError) as exc:
            raise Failure(
                f"the server backed up to {made}, but copying it to {directory} failed: "
                f"{getattr(exc, 'message', None) or exc}"
            ) from None
        where = directory
    click.echo(
        f"backed up {manifest['quads']} quads in {manifest['graphs']} graphs to {where} "
        f"(made by the server in {made}: {manifest['method']})"
    )


@main.command("restore")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a store that holds data.")
@click.pass_context
def restore_command(ctx: click.Context, directory: Path, force: bool) -> None:
    """Restore the backup in DIRECTORY into the store (stop the server first). Refused when the
    store holds data, unless --force; the store holds either its old data or the whole backup."""
    settings = _settings(ctx)
    try:
        if settings.sparql_query_url:
            kb = KnowledgeBase.from_settings(settings)
            try:
                manifest = backup.restore_remote(directory, kb, force=force)
            finally:
                kb.close()
        else:
            assert settings.store_path is not None
            manifest = backup.restore(directory, settings.store_path, force=force)
    except (AllianceldError, OSError) as exc:
        raise Failure(f"restore refused: {getattr(exc, 'message', None) or exc}; the store is unchanged") from None
    where = settings.sparql_query_url or settings.store_path
    click.echo(
        f"restored {manifest.quads} quads in {manifest.graphs} graphs (backup of {manifest.created}) into {where}"
    )


@main.command()
@click.option("--with-data", is_flag=True, help="Also reload the shipped curated data files (as 'init' does).")
@click.option("--dry-run", is_flag=True, help="Validate and report; write nothing.")
@click.option("--force", is_flag=True, help="Migrate even if stored data violates the new shapes (says so).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_context
def migrate(ctx: click.Context, with_data: bool, dry_run: bool, force: bool, fmt: str) -> None:
    """Upgrade the store to the ontology, shapes and rules of this release, in one transaction:
    replace the stored ontology, re-validate every stored data graph against the new shapes
    (refused, nothing written, on a violation unless --force), recompute the inferences and the
    domain rules' graphs. Back up first ('allianceld backup'); stop the server meanwhile."""
    settings = _settings(ctx)
    try:
        write_policy = WritePolicy.from_settings(settings)
        ontology = formats.parse_file(settings.ontology_file)
        data = [gate.read_file(f) for f in settings.data_files()] if with_data else []
    except (AllianceldError, OSError, ValueError) as exc:
        raise Failure(f"migrate: {getattr(exc, 'message', None) or exc}") from None
    kb = _open_kb(settings)
    try:
        done = migration.migrate(kb, write_policy, ontology, data=data, force=force, dry_run=dry_run)
    except ValidationFailed as exc:
        click.echo(exc.report.to_text(), err=True)
        click.echo(
            "refused: stored data violates the new shapes; nothing was written (fix the data, or --force)", err=True
        )
        sys.exit(1)
    finally:
        kb.close()
    if fmt == "json":
        click.echo(json.dumps(done.to_json(), indent=2))
        return
    change = (
        f"changed (+{done.ontology_added}/-{done.ontology_removed} triples)" if done.ontology_changed else "unchanged"
    )
    report = done.report
    click.echo(
        f"ontology {change}; {len(done.data_graphs)} data graphs validated against the shapes: "
        f"{report.violation_count} violation(s), {len(report.warnings)} warning(s)"
    )
    if report.violation_count:
        click.echo("\n".join(str(r) for r in report.violations), err=True)
        click.echo(f"--force: migrated despite {report.violation_count} violation(s)", err=True)
    if not done.written:
        click.echo("dry run: nothing written")
        return
    click.echo(
        f"migrated in {done.seconds:.1f} s: {done.inferred} inferred triples, {len(done.rules)} rule graphs recomputed"
        + (f", dropped {', '.join(done.dropped)}" if done.dropped else "")
        + (f", {len(done.digests)} contribution(s) given their data's digest" if done.digests else "")
    )


@main.command()
@click.option("--host", default=None, help="Interface to listen on (default 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port (default 8000).")
@click.option(
    "--production", is_flag=True, help="Serve with gunicorn: one process (the store's single writer), many threads."
)
@click.option("--threads", default=8, show_default=True, help="Threads of the production server.")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, production: bool, threads: int) -> None:
    """Serve the web application (SPARQL, validation, reasoning) on the store."""
    from allianceld.web import create_app
    from allianceld.web.services import query_memory_choice

    settings = _settings(ctx)
    host, port = host or settings.host, port or settings.port
    settings = dataclasses.replace(settings, host=host, port=port)  # the default public URL (base_url) uses them
    try:
        _ = settings.public_url  # a malformed ALLIANCELD_BASE_URL stops here, not in a worker
    except ValueError as exc:
        raise Failure(str(exc)) from None
    try:
        parse_token_hashes(settings.token_hashes)  # a malformed item stops here, not in a worker
    except ValueError as exc:
        raise Failure(str(exc)) from None
    try:
        parse_allowlist(settings.service_allowlist)  # likewise a malformed SERVICE allowlist
    except ValueError as exc:
        raise Failure(f"ALLIANCELD_SERVICE_ALLOWLIST: {exc}") from None
    try:
        query_memory_choice(settings)  # and a malformed ALLIANCELD_QUERY_MEMORY
    except ValueError as exc:
        raise Failure(str(exc)) from None
    _require_store(settings)  # here, not in a production worker
    logs.configure()  # JSON lines on stderr, secrets scrubbed (allianceld.logs)
    if production:
        from allianceld.web.production import serve as serve_production

        # Not opened here: RocksDB's background threads would not survive gunicorn's fork, and
        # the worker's first flush would wait for them for ever. The worker opens the store.
        click.echo(f"allianceld serving {settings.sparql_query_url or settings.store_path} on http://{host}:{port}/")
        with _recorded(settings, host, port):
            serve_production(
                lambda: create_app({"SETTINGS": settings, "KB": _open_kb(settings), "WARM": True}),
                host,
                port,
                threads,
                settings,
            )
        return
    kb = _open_kb(settings)
    click.echo(f"allianceld serving {kb.location} on http://{host}:{port}/")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stopped: close the store, remove the record
    try:
        with _recorded(settings, host, port):
            create_app({"SETTINGS": settings, "KB": kb, "WARM": True}).run(
                host=host, port=port, threaded=True, use_reloader=False
            )
    finally:
        kb.close()


@contextlib.contextmanager
def _recorded(settings: Settings, host: str, port: int) -> Any:
    """Record where this server listens beside its on-disk store (``server_record``), so that
    writing commands find it, while it serves; refuse to start where another server is recorded."""
    store = settings.store_path if not settings.sparql_query_url else None
    if store is None:
        yield
        return
    found = server_record.live(store)
    if found is not None and found[1] != os.getpid():
        raise Failure(f"another allianceld server (process {found[1]}) serves the store {store} at {found[0]}")
    server_record.record(store, server_record.local_url(host, port))
    try:
        yield
    finally:
        server_record.remove(store)


if __name__ == "__main__":  # python -m allianceld.cli
    main()
