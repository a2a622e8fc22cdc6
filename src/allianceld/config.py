"""Settings: defaults, overridden by environment variables, overridden by explicit values."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit


def normalise_endpoint(url: str) -> str:
    """The form endpoints are compared in: scheme and host in lower case, the default port and any
    fragment dropped, an empty path written ``/``; the path and query string are kept as they are.

    >>> normalise_endpoint("HTTP://Example.org:80")
    'http://example.org/'

    Raises :class:`ValueError` for anything but an absolute http(s) URL with a host.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) endpoint URL: {url!r}")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"not an http(s) endpoint URL (bad port): {url!r}") from None
    host = parts.hostname.lower()
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    if port is not None and port != {"http": 80, "https": 443}[scheme]:
        host = f"{host}:{port}"
    if parts.username or parts.password:
        raise ValueError(f"an endpoint URL with credentials is not accepted: {url!r}")
    return urlunsplit((scheme, host, parts.path or "/", parts.query, ""))


def parse_allowlist(text: str) -> tuple[str, ...]:
    """The endpoints of a comma-separated allowlist, normalised (``ALLIANCELD_SERVICE_ALLOWLIST``).

    >>> parse_allowlist(" http://127.0.0.1:7878/query , ")
    ('http://127.0.0.1:7878/query',)
    """
    return tuple(normalise_endpoint(item) for item in text.split(",") if item.strip())


def cache_directory() -> Path:
    """Where allianceld keeps what it computes once for many runs (HermiT's compiled worker, parsed
    queries): ``$XDG_CACHE_HOME/allianceld``, by default ``~/.cache/allianceld``. Not created here."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "allianceld"


def project_home() -> Path:
    """The folder that holds ontology/, shapes/ and data/.

    ``ALLIANCELD_HOME`` wins; then the copy bundled in an installed wheel; then the source tree.
    """
    env = os.environ.get("ALLIANCELD_HOME")
    if env:
        return Path(env)
    bundled = Path(__file__).parent / "_bundled"
    if (bundled / "ontology").is_dir():
        return bundled
    return Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Settings:
    """Where the store and the RDF sources are, and how the service listens.

    >>> Settings(store_path=None).in_memory
    True
    """

    store_path: Path | None = field(default_factory=lambda: Path(os.environ.get("ALLIANCELD_STORE", "var/store")))
    home: Path = field(default_factory=project_home)
    host: str = field(default_factory=lambda: os.environ.get("ALLIANCELD_HOST", "127.0.0.1"))
    port: int = field(default_factory=lambda: int(os.environ.get("ALLIANCELD_PORT", "8000")))
    sparql_query_url: str | None = field(default_factory=lambda: os.environ.get("ALLIANCELD_SPARQL_QUERY_URL"))
    sparql_update_url: str | None = field(default_factory=lambda: os.environ.get("ALLIANCELD_SPARQL_UPDATE_URL"))
    # the service's public URL (scheme, host, port and any path prefix): the base of every absolute
    # URL it writes (reconciliation manifest and previews, service description, VoID, dumps); unset,
    # http://<host>:<port>/ from the settings above. Never taken from a request's Host header.
    base_url: str = field(default_factory=lambda: os.environ.get("ALLIANCELD_BASE_URL", ""))
    max_body_bytes: int = field(default_factory=lambda: int(os.environ.get("ALLIANCELD_MAX_BODY_BYTES", 16 * 2**20)))
    # the files of one POST /import/<kind> (streamed to disk, never held in memory), with a token
    max_import_bytes: int = field(default_factory=lambda: int(os.environ.get("ALLIANCELD_MAX_IMPORT_BYTES", 4 * 2**30)))
    max_result_bytes: int = field(
        default_factory=lambda: int(os.environ.get("ALLIANCELD_MAX_RESULT_BYTES", 256 * 2**20))
    )
    query_timeout: float = field(default_factory=lambda: float(os.environ.get("ALLIANCELD_QUERY_TIMEOUT", 60)))
    query_workers: int = field(
        default_factory=lambda: int(os.environ.get("ALLIANCELD_QUERY_WORKERS", max(2, os.cpu_count() or 1)))
    )
    # query workers answer from in-memory copies of the store: "on", "off", or "auto" (on while a
    # copy per worker, estimated at the store's size on disk, fits in half the machine's memory)
    query_memory: str = field(default_factory=lambda: os.environ.get("ALLIANCELD_QUERY_MEMORY", "auto").lower())
    # OWL 2 DL (HermiT) check of every write: "on" (the default; off by itself without Java) or "off"
    dl_checks: bool = field(default_factory=lambda: os.environ.get("ALLIANCELD_DL_CHECKS", "on").lower() != "off")
    tokens_file: Path = field(default_factory=lambda: Path(os.environ.get("ALLIANCELD_TOKENS", "var/tokens.json")))
    # more tokens, as "name:role:sha256hex,…" (hashes only: a token is never configured in clear)
    token_hashes: str = field(default_factory=lambda: os.environ.get("ALLIANCELD_TOKEN_HASHES", ""))
    # SPARQL endpoints that SERVICE may call, comma-separated (empty: federated queries are off)
    service_allowlist: str = field(default_factory=lambda: os.environ.get("ALLIANCELD_SERVICE_ALLOWLIST", ""))
    # seconds a federated query (one with SERVICE) may run; its remote calls have no limit of their own
    service_timeout: float = field(default_factory=lambda: float(os.environ.get("ALLIANCELD_SERVICE_TIMEOUT", 30)))
    # production server: seconds a request (line, headers and body) may take to arrive, from its
    # first byte, before the connection is dropped; and the bytes of bodies it buffers at once
    request_timeout: float = field(default_factory=lambda: float(os.environ.get("ALLIANCELD_REQUEST_TIMEOUT", 60)))
    request_buffer_bytes: int = field(
        default_factory=lambda: int(os.environ.get("ALLIANCELD_REQUEST_BUFFER_BYTES", 128 * 2**20))
    )
    # queries one client (remote address) may have under way; it runs at most query_workers - 1 at once
    client_queries: int = field(default_factory=lambda: int(os.environ.get("ALLIANCELD_CLIENT_QUERIES", 4)))
    # validations (POST /validate) one client may run at once, and all clients together (they hold
    # the GIL: two at once take as long as one after the other, and slow every other request)
    client_validations: int = field(default_factory=lambda: int(os.environ.get("ALLIANCELD_CLIENT_VALIDATIONS", 1)))
    validations: int = field(default_factory=lambda: int(os.environ.get("ALLIANCELD_VALIDATIONS", 1)))
    # memory for pages kept until the next write (web.page_cache); 0: every page is built anew
    page_cache_bytes: int = field(
        default_factory=lambda: int(os.environ.get("ALLIANCELD_PAGE_CACHE_BYTES", 64 * 2**20))
    )
    # where POST /admin/backup writes its backups (a new directory each); default <store path>.backups
    backup_dir: Path | None = field(
        default_factory=lambda: (
            Path(os.environ["ALLIANCELD_BACKUP_DIR"]) if os.environ.get("ALLIANCELD_BACKUP_DIR") else None
        )
    )

    @property
    def public_url(self) -> str:
        """:attr:`base_url` ending in ``/``, or ``http://<host>:<port>/`` when it is not set.

        >>> Settings(store_path=None, host="::1", port=80).public_url, Settings(base_url="https://a.example/kb").public_url
        ('http://[::1]:80/', 'https://a.example/kb/')
        """
        if not self.base_url:
            host = f"[{self.host}]" if ":" in self.host else self.host
            return f"http://{host}:{self.port}/"
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            raise ValueError(
                f"ALLIANCELD_BASE_URL must be an http or https URL without query or fragment, not {self.base_url!r}"
            )
        return self.base_url.rstrip("/") + "/"

    @property
    def in_memory(self) -> bool:
        return self.store_path is None

    @property
    def backups_dir(self) -> Path | None:
        """Where the server writes its backups: ``backup_dir``, else ``<store path>.backups`` next
        to the store; None for an in-memory store without a ``backup_dir``."""
        if self.backup_dir is not None:
            return self.backup_dir
        if self.store_path is None:
            return None
        return self.store_path.with_name(self.store_path.name + ".backups")

    @property
    def service_endpoints(self) -> tuple[str, ...]:
        """The allowlisted SERVICE endpoints, normalised (:func:`parse_allowlist`)."""
        return parse_allowlist(self.service_allowlist)

    @property
    def ontology_file(self) -> Path:
        return self.home / "ontology" / "allianceld.ttl"

    @property
    def rules_dir(self) -> Path:
        """The domain rules (SHACL-AF SPARQL rules, one file each)."""
        return self.home / "ontology" / "rules"

    @property
    def shapes_dir(self) -> Path:
        return self.home / "shapes"

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def yasgui_dir(self) -> Path:
        """Where npm put YASGUI's build (``make assets``)."""
        return self.home / "web-assets" / "node_modules" / "@zazuko" / "yasgui" / "build"

    @property
    def queries_dir(self) -> Path:
        """The example queries offered in the query editor (and run by the tests)."""
        return self.home / "docs" / "queries"

    def data_files(self) -> list[Path]:
        """The shipped curated data files, in a stable order."""
        return sorted(self.data_dir.glob("*.ttl"))

    def shape_files(self) -> list[Path]:
        return sorted(self.shapes_dir.glob("*.ttl"))
