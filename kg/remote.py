"""A remote SPARQL store over HTTP: credentials, retries, which protocol it speaks, counts."""
from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests
from pyoxigraph import NamedNode
from requests.auth import AuthBase, HTTPBasicAuth, HTTPDigestAuth

from .errors import StoreError, UsageError

AUTH_SCHEMES = ("basic", "digest")
GSP, UPDATE = "gsp", "update"
PROTOCOLS = (GSP, UPDATE)
N_TRIPLES = "application/n-triples"
SPARQL_JSON = "application/sparql-results+json"
RDF_TYPES = (N_TRIPLES, "text/turtle", "application/n-quads", "application/trig",
             "application/rdf+xml", "application/ld+json")
# A graph no store holds: asking the graph store for it tells GSP (404 or an empty graph)
# apart from a SPARQL endpoint, which answers 400 or an HTML form. Only ever read.
PROBE_GRAPH = "https://w3id.org/parley/graph/push-probe"
# Statuses that mean "not this kind of endpoint" while probing, rather than a failure.
NOT_HERE = (400, 404, 405, 406, 415)
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110 token
# The graph IRI is a validated NamedNode written as a term into VALUES, never user text.
COUNT_QUERY = ("SELECT (COUNT(*) AS ?n) WHERE {{ VALUES ?g {{ {graph} }} "
               "GRAPH ?g {{ ?s ?p ?o }} }}")


class RemoteStoreError(StoreError):
    """A remote SPARQL store could not be reached, refused a request, or disagrees with us."""

    exit_code = 1


@dataclass(frozen=True)
class Credentials:
    """Who we are to the remote store; `scheme` is how a user and password travel."""

    user: str | None = None
    password: str | None = field(default=None, repr=False)
    scheme: str = "basic"
    bearer_token: str | None = field(default=None, repr=False)

    def auth(self) -> AuthBase | None:
        if self.user is None:
            return None
        if self.scheme == "digest":
            return HTTPDigestAuth(self.user, self.password or "")
        return HTTPBasicAuth(self.user, self.password or "")


@dataclass(frozen=True)
class RemoteSettings:
    """How to talk to a remote store; assembled once at the edge by `remote_settings`."""

    credentials: Credentials = Credentials()
    headers: tuple[tuple[str, str], ...] = ()
    # Retries after the first attempt, for connection failures, 429 and 5xx only.
    retries: int = 5
    timeout: float = 60.0
    # The first wait; each further retry doubles it unless the server says Retry-After.
    backoff: float = 1.0
    # A server asking for a longer pause than this is treated as refusing.
    max_wait: float = 300.0


def remote_settings(*, user: str | None = None, password: str | None = None,
                    password_env: str | None = None, auth_scheme: str = "basic",
                    bearer_token_env: str | None = None, headers: Sequence[str] = (),
                    retries: int = 5, timeout: float = 60.0,
                    environ: Mapping[str, str] = os.environ) -> RemoteSettings:
    """Check and assemble the CLI's connection options; secrets come from the environment."""
    if password is not None and password_env is not None:
        raise UsageError("give --password or --password-env, not both")
    if password_env is not None:
        password = _from_environment(environ, password_env, "--password-env")
    if password is not None and user is None:
        raise UsageError("a password needs --user NAME")
    if auth_scheme not in AUTH_SCHEMES:
        raise UsageError(f"unknown authentication scheme {auth_scheme!r}; "
                         f"use one of {', '.join(AUTH_SCHEMES)}")
    token = (_from_environment(environ, bearer_token_env, "--bearer-token-env")
             if bearer_token_env else None)
    if token is not None and user is not None:
        raise UsageError("--user and --bearer-token-env both set the Authorization header; "
                         "choose one")
    if retries < 0:
        raise UsageError(f"--retries must be 0 or more, not {retries}")
    if timeout <= 0:
        raise UsageError(f"--timeout must be positive, not {timeout}")
    return RemoteSettings(
        credentials=Credentials(user=user, password=password, scheme=auth_scheme,
                                bearer_token=token),
        headers=tuple(parse_header(text) for text in headers), retries=retries, timeout=timeout)


def parse_header(text: str, option: str = "--header") -> tuple[str, str]:
    """`Name: value` (as curl's -H takes it) as a pair; `option` names where it came from.

    The name must be an HTTP token and the value hold no CR, LF or NUL: a line break would
    let one header smuggle in others (and requests refuses it only when sending).
    """
    name, colon, value = text.partition(":")
    name = name.strip()
    if not colon or not _HEADER_NAME.fullmatch(name) or any(c in value for c in "\r\n\0"):
        raise UsageError(f"{option} {text!r} is not 'Name: value' (a token name, a value on one line)")
    return name, value.strip()


def redact(url: str) -> str:
    """The URL without a password in it, for messages (`https://user:***@host/...`)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


class RemoteSession:
    """One HTTP session to a remote store, retrying what may succeed when tried again.

    Connection failures, 429 and 5xx are retried with exponential backoff (or after the
    server's Retry-After); any other 4xx fails at once, since sending the same request again
    cannot change the answer. Redirects are never followed: requests would turn a redirected
    POST into a GET and drop the data, so a redirect is reported with its target instead.
    """

    def __init__(self, settings: RemoteSettings, *, session: requests.Session | None = None,
                 sleep: Callable[[float], None] = time.sleep):
        self.settings = settings
        self.requests_sent = 0
        self._sleep = sleep
        self._session = session or requests.Session()
        self._session.auth = settings.credentials.auth()
        self._session.headers.update(dict(settings.headers))
        if settings.credentials.bearer_token is not None:
            self._session.headers["Authorization"] = f"Bearer {settings.credentials.bearer_token}"

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> RemoteSession:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def send(self, method: str, url: str, *, what: str, params: Mapping[str, str] | None = None,
             data: bytes | Mapping[str, str] | None = None,
             headers: Mapping[str, str] | None = None,
             accept_status: Sequence[int] = ()) -> requests.Response:
        """Send one request, retrying as above; a 2xx answer or one in `accept_status`."""
        attempts = self.settings.retries + 1
        for attempt in range(attempts):
            self.requests_sent += 1
            try:
                response = self._session.request(
                    method, url, params=params, data=data, headers=headers,
                    timeout=self.settings.timeout, allow_redirects=False)
            except (requests.ConnectionError, requests.Timeout) as error:
                failure = f"cannot reach {what} at {redact(url)}: {_reason(error)}"
                wait = self._backoff(attempt)
            else:
                # Not `response.ok`, which counts a 3xx as success.
                if 200 <= response.status_code < 300 or response.status_code in accept_status:
                    return response
                failure = describe(response, what, method)
                if not _retryable(response.status_code):
                    raise RemoteStoreError(failure + _hint(response))
                wait = _retry_after(response)
                if wait is None:
                    wait = self._backoff(attempt)
                elif wait > self.settings.max_wait:
                    raise RemoteStoreError(
                        f"{failure}; it asks to retry after {wait:.0f} s, longer than "
                        f"kg push waits ({self.settings.max_wait:.0f} s)")
            if attempt + 1 == attempts:
                tries = f"{attempts} attempt{'s' if attempts != 1 else ''}"
                raise RemoteStoreError(f"{failure} (gave up after {tries}; --retries N tries more)")
            self._sleep(wait)
        raise AssertionError("unreachable: the loop returns or raises")

    def _backoff(self, attempt: int) -> float:
        return min(self.settings.backoff * 2 ** attempt, self.settings.max_wait)


def describe(response: requests.Response, what: str, method: str) -> str:
    """`<what> answered 400 Bad Request to POST <url>: <first lines of the body>`."""
    body = " ".join(response.text.split())[:300] if response.content else ""
    text = (f"{what} answered {response.status_code} {response.reason} to "
            f"{method} {redact(response.url)}")
    if 300 <= response.status_code < 400 and "Location" in response.headers:
        text += f", redirecting to {redact(response.headers['Location'])} (use that URL)"
    return f"{text}: {body}" if body else text


def _retryable(status: int) -> bool:
    return status == 429 or status >= 500


def _hint(response: requests.Response) -> str:
    if response.status_code == 401:
        challenge = response.headers.get("WWW-Authenticate", "")
        scheme = f" (it asks for {challenge.split()[0]})" if challenge else ""
        return (f"\n    hint: the store wants credentials{scheme}: --user with --password-env, "
                f"--auth digest for Digest, or --bearer-token-env")
    if response.status_code == 403:
        return "\n    hint: the credentials are not allowed to write there"
    if response.status_code == 404:
        return "\n    hint: is the URL right? (--to, --update-endpoint, --query-endpoint)"
    if response.status_code == 413:
        return "\n    hint: the request is too large for the store; lower --batch-triples"
    return ""


def _retry_after(response: requests.Response) -> float | None:
    # RFC 9110 §10.2.3: either delay-seconds or an HTTP-date.
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def _reason(error: Exception) -> str:
    # requests wraps urllib3 errors several levels deep; the innermost reason is the readable one.
    while error.args and isinstance(error.args[0], Exception):
        error = error.args[0]
    reason = getattr(error, "reason", None)
    return str(reason if reason is not None else error)


def _from_environment(environ: Mapping[str, str], variable: str, option: str) -> str:
    value = environ.get(variable)
    if not value:
        raise UsageError(f"{option} {variable}: the environment variable is not set or empty")
    return value


@dataclass(frozen=True)
class Endpoints:
    protocol: str
    write: str  # the GSP endpoint or the update endpoint, as the protocol says
    query: str


def resolve_endpoints(session: RemoteSession, target: str, *, protocol: str | None = None,
                      query_endpoint: str | None = None,
                      update_endpoint: str | None = None) -> Endpoints:
    """Settle the protocol and the query endpoint, by read-only probes where not given."""
    if protocol is not None and protocol not in PROTOCOLS:
        raise UsageError(f"unknown protocol {protocol!r}; use gsp or update")
    protocol = protocol or detect_protocol(session, target)
    write = update_endpoint if protocol == UPDATE and update_endpoint else target
    query = query_endpoint or find_query_endpoint(session, target, write)
    return Endpoints(protocol, write, query)


def detect_protocol(session: RemoteSession, url: str) -> str:
    """GSP if the URL answers as a graph store does, else SPARQL Update.

    Two read-only probes, because a 404 alone is ambiguous (a store answers 404 both for an
    absent graph and for a path it does not serve): a GET of a graph no store holds must
    answer 404 or an (empty) RDF graph, and a HEAD of the default graph, which every graph
    store has, must succeed without claiming to be an HTML page (a SPARQL endpoint's form).
    """
    absent = session.send("GET", url, what="the store", params={"graph": PROBE_GRAPH},
                          headers={"Accept": N_TRIPLES}, accept_status=NOT_HERE)
    if not (absent.status_code == 404 or (absent.ok and _media_type(absent) in RDF_TYPES)):
        return UPDATE
    # GSP §4.2 spells it `?default`, without `=`, which some stores insist on.
    default_graph = url + ("&" if urlsplit(url).query else "?") + "default"
    default = session.send("HEAD", default_graph, what="the store",
                           headers={"Accept": N_TRIPLES}, accept_status=NOT_HERE)
    if 200 <= default.status_code < 300 and _media_type(default) in ("", *RDF_TYPES):
        return GSP
    return UPDATE


def _media_type(response) -> str:
    return response.headers.get("Content-Type", "").split(";")[0].strip().lower()


def find_query_endpoint(session: RemoteSession, target: str, write: str) -> str:
    """The first of the target, the write endpoint and their `query`/`sparql` siblings
    that answers `ASK {}` (a store's usual layouts: Oxigraph /store → /query, Fuseki
    /ds/data → /ds/query, Virtuoso /sparql-graph-crud → /sparql)."""
    candidates = dict.fromkeys([write, target, urljoin(target, "query"), urljoin(target, "sparql")])
    for candidate in candidates:
        response = session.send("GET", candidate, what="the store", params={"query": "ASK {}"},
                                headers={"Accept": SPARQL_JSON}, accept_status=NOT_HERE)
        try:
            if response.ok and isinstance(response.json().get("boolean"), bool):
                return candidate
        except (ValueError, AttributeError):
            continue
    tried = ", ".join(redact(c) for c in candidates)
    raise RemoteStoreError(f"found no SPARQL query endpoint for the count check (tried {tried}); "
                           f"pass --query-endpoint URL")


def count_remote(session: RemoteSession, query_endpoint: str, graph: NamedNode) -> int:
    response = session.send("POST", query_endpoint, what="the query endpoint",
                            data={"query": COUNT_QUERY.format(graph=graph)},
                            headers={"Accept": SPARQL_JSON})
    try:
        return int(response.json()["results"]["bindings"][0]["n"]["value"])
    except (ValueError, KeyError, IndexError, TypeError):
        raise RemoteStoreError(f"the query endpoint {redact(query_endpoint)} did not answer "
                               f"the count of <{graph.value}> with SPARQL JSON results: "
                               f"{response.text[:200]!r}") from None
