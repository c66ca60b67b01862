"""ServerSettings: everything `kg serve` and `create_app` are configured with, assembled once."""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from urllib.parse import urlsplit

from parley.kg.errors import UsageError
from parley.kg.remote import parse_header
from parley.kg.settings import packaged_corpus, store_path

ENV_PREFIX = "PARLEY_"
WIKIDATA_SPARQL = "https://query.wikidata.org/sparql"
# Secrets never come from a PARLEY_* variable of their own name (they would show in
# `env` dumps of the service); the password's variable is named by an option instead.
_NOT_FROM_ENVIRONMENT = {"backend_password", "backend_headers"}


@dataclass(frozen=True)
class ServerSettings:
    """One frozen record of the server's configuration; see docs/endpoint.md for each knob."""

    store: Path = field(default_factory=store_path)
    host: str = "127.0.0.1"
    port: int = 5000
    # gunicorn worker processes; each owns `executors` query subprocesses.
    workers: int = 2
    executors: int = 2
    # Executors (reading the store on disk) a worker adds while all of its executors have
    # been busy for over a second, as runaway queries keep them until the timeout; each
    # stops after 10 s idle. 0: none, and runaways can hold every executor.
    overflow_executors: int = 2
    timeout: float = 30.0  # seconds a query may run before its executor is killed (503)
    max_body: int = 1_000_000  # bytes of query text (body or query string) accepted (413)
    row_cap: int = 10_000  # solutions or triples returned at most (header X-Parley-Truncated)
    cors_origins: tuple[str, ...] = ("*",)  # empty: no CORS headers
    service_allowlist: frozenset[str] = frozenset({WIKIDATA_SPARQL})
    # Executors copy the store into memory (lookups 3-11x faster than RocksDB, at the cost of
    # RAM per executor): True always, False never, None (the default) when the store holds
    # at most `in_memory_max_quads` quads, so small graphs are fast and big ones stay safe.
    in_memory: bool | None = None
    in_memory_max_quads: int = 3_000_000
    max_depth: int = 256  # bracket nesting refused before parsing (the parser crashes near 2,200)
    cache_bytes: int = 64 * 2**20  # per worker LRU of serialized answers; 0 disables it
    # Each worker computes the saved queries' default answers into its cache when it sees a
    # new build (server/warming.py); needs the cache and the embedded store.
    warm_cache: bool = True
    executor_memory: int = 2 * 2**30  # address space an executor may add beyond its open store (RLIMIT_AS)
    access_log: str | None = None  # file for gunicorn's access log, "-" for standard output; None: none (it costs time)
    reload_interval: float = 1.0  # seconds between checks of realpath(store)
    corpus: Path = field(default_factory=packaged_corpus)  # its sources/ hold the texts the source view shows
    queries: Path | None = None  # folder of saved queries (*.rq); None: the packaged queries/
    # A remote SPARQL 1.1 query endpoint to answer from instead of the store (docs/endpoint.md).
    backend: str | None = None
    backend_user: str | None = None
    backend_password: str | None = field(default=None, repr=False)
    backend_headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)

    def __post_init__(self):
        # port 0 asks for any free port; 0 overflow executors turns them off.
        for name, least in (("port", 0), ("workers", 1), ("executors", 1), ("overflow_executors", 0),
                            ("max_body", 1), ("row_cap", 1), ("max_depth", 1)):
            if getattr(self, name) < least:
                wanted = "positive" if least else "0 or more"
                raise UsageError(f"{name} must be {wanted}, got {getattr(self, name)}")
        if self.timeout <= 0:
            raise UsageError(f"timeout must be positive, got {self.timeout}")
        for iri in self.service_allowlist:
            if not iri.startswith(("http://", "https://")):
                raise UsageError(f"SERVICE allowlist entries must be absolute http(s) IRIs, got {iri!r}")
        if self.backend is not None:
            parts = urlsplit(self.backend)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise UsageError(f"the backend must be an http(s) URL of a SPARQL query endpoint, "
                                 f"got {self.backend!r}")
        elif self.backend_user or self.backend_password or self.backend_headers:
            raise UsageError("backend credentials and headers need a backend URL (--backend)")
        if self.backend_user is not None and self.backend_password is None:
            raise UsageError("--backend-user needs --backend-password-env VAR naming the variable "
                             "that holds the password")
        if self.backend_password is not None and self.backend_user is None:
            raise UsageError("a backend password needs --backend-user")

    @property
    def endpoint_url(self) -> str:
        """Where the SPARQL endpoint listens, as a URL."""
        return f"http://{bracketed(self.host)}:{self.port}/sparql"

    @property
    def threads(self) -> int:
        # More threads than executors (overflow ones included), so cached answers, the
        # service description and quick 4xx replies keep flowing while every executor is busy.
        return (self.executors + self.overflow_executors) * 2 + 2


def load_settings(environ: Mapping[str, str] = os.environ, *, backend_password_env: str | None = None,
                  **options) -> ServerSettings:
    """Settings from `PARLEY_*` environment variables, overridden by options that are not None.

    `backend_password_env` names the variable holding the backend's password
    (`PARLEY_BACKEND_PASSWORD_ENV` may name it too); `backend_headers` takes `Name: value`
    strings.
    """
    values: dict[str, object] = {}
    for spec in fields(ServerSettings):
        raw = environ.get(ENV_PREFIX + spec.name.upper())
        if raw is not None and spec.name not in _NOT_FROM_ENVIRONMENT:
            values[spec.name] = _parse(spec.name, raw)
    values.update({k: v for k, v in options.items() if v is not None})
    variable = backend_password_env or environ.get(ENV_PREFIX + "BACKEND_PASSWORD_ENV")
    if variable:
        if variable not in environ:
            raise UsageError(f"the backend password variable ${variable} is not set")
        values["backend_password"] = environ[variable]
    if "backend_headers" in values:
        values["backend_headers"] = tuple(_header(line) for line in values["backend_headers"])
    for name in ("store", "corpus", "queries"):
        if name in values:
            values[name] = Path(values[name])
    if "service_allowlist" in values:
        values["service_allowlist"] = frozenset(values["service_allowlist"])
    if "cors_origins" in values:
        values["cors_origins"] = tuple(values["cors_origins"])
    return replace(ServerSettings(), **values)


def bracketed(host: str) -> str:
    """`host` as it goes before `:port` (an IPv6 address in brackets)."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def _header(line: str | tuple[str, str]) -> tuple[str, str]:
    text = ":".join(line) if isinstance(line, tuple) else line
    return parse_header(text, "--backend-header")


def _parse(name: str, raw: str):
    kind = {f.name: f.type for f in fields(ServerSettings)}[name]
    try:
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        if kind in ("bool", "bool | None"):
            if raw.lower() not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                raise ValueError(raw)
            return raw.lower() in ("1", "true", "yes", "on")
    except ValueError:
        raise UsageError(f"{ENV_PREFIX}{name.upper()}={raw!r} is not a valid {kind}") from None
    if kind in ("tuple[str, ...]", "frozenset[str]"):
        return [item for item in raw.replace(",", " ").split() if item]
    return raw
