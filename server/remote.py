"""A remote SPARQL 1.1 query endpoint as the service's backend (`kg serve --backend URL`).

Every query reaching this module has passed the guard, and it only ever goes to the
backend's query operation, so Parley stays read-only whatever the backend would allow.
The backend is asked for a format Parley reads without loss (SPARQL JSON or XML,
N-Triples or Turtle); the answer is parsed as it streams in, cut at the row cap, and
written in the negotiated format by the executors' own pyoxigraph writers, so the client
gets byte for byte what the embedded store sends for the same rows.
"""
from __future__ import annotations

import hashlib
import io
import logging
import threading
import time
from contextlib import contextmanager

import requests
from urllib3.exceptions import ReadTimeoutError
from pyoxigraph import NamedNode, QueryResultsFormat, RdfFormat, parse, parse_query_results

from parley.kg.remote import redact
from parley.server.backends import Evaluation, Job
from parley.server.errors import (GatewayTimeout, MalformedQuery, PayloadTooLarge, ProtocolError,
                                  Unavailable, UpstreamError)
from parley.server.evaluation import serialize_result, void_statistics
from parley.server.settings import ServerSettings

log = logging.getLogger(__name__)

_RESULTS_ACCEPT = ("application/sparql-results+json, application/sparql-results+xml;q=0.9, "
                   "text/tab-separated-values;q=0.8")
_TRIPLES_ACCEPT = "application/n-triples, text/turtle;q=0.9, application/rdf+xml;q=0.8"
_DESCRIPTION_ACCEPT = ("text/turtle, application/n-triples;q=0.9, application/rdf+xml;q=0.8, "
                       "application/n-quads;q=0.7, application/trig;q=0.7")
_CONNECT_SECONDS = 10.0
# The backend's data may change at any time and Parley cannot see it happen: its VoID
# numbers (costly to count on a big store) are at most this old.
_DESCRIPTION_SECONDS = 300.0
_DESCRIPTION_RETRY_SECONDS = 30.0  # after a failure: a backend that was down may be back
# A hostile or broken backend must not fill the worker's memory before the row cap bites
# (one enormous literal is a single row).
_ANSWER_BYTES = 256 * 2**20
_DESCRIPTION_BYTES = 4 * 2**20
_MESSAGE_BYTES = 2000
_SD = "http://www.w3.org/ns/sparql-service-description#"
_SD_FEATURE, _SD_UNION = NamedNode(_SD + "feature"), NamedNode(_SD + "UnionDefaultGraph")


class _Deadline(Exception):
    pass


class _TooLarge(Exception):
    pass


class RemoteBackend:
    """The SPARQL endpoint at `settings.backend`, asked over HTTP with Parley's credentials."""

    def __init__(self, settings: ServerSettings):
        self.settings = settings
        self.url = settings.backend
        self.where = redact(self.url)
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._sessions_lock = threading.Lock()
        self._description_lock = threading.Lock()
        self._described: tuple[float, dict | None, bool] | None = None  # (expiry, statistics, union)

    def build(self) -> None:
        # Nothing tells Parley when a remote store changes: answers are tagged by content.
        return None

    def evaluate(self, job: Job, timeout: float) -> Evaluation:
        deadline = time.monotonic() + timeout
        graph_form = job.shape.returns_graph
        formats = dict.fromkeys(("solutions", "boolean", "triples"), job.media.name)
        with self._post(_fields(job), _TRIPLES_ACCEPT if graph_form else _RESULTS_ACCEPT, deadline) as response, \
                self._reading(timeout):
            result = _parsed(response, deadline, graph_form)
            body, _, truncated = serialize_result(result, formats, job.row_cap)
        return Evaluation(body, f"{self.url} {hashlib.blake2b(body, digest_size=16).hexdigest()}", truncated)

    def statistics(self) -> dict | None:
        return self._description()[0]

    def union_default_graph(self) -> bool:
        return self._description()[1]

    def close(self) -> None:
        with self._sessions_lock:
            for session in self._sessions:
                session.close()

    def _description(self) -> tuple[dict | None, bool]:
        # One thread counts while the others wait for its numbers, rather than all counting.
        with self._description_lock:
            if self._described is None or time.monotonic() > self._described[0]:
                numbers, union = self._statistics(), self._declares_union()
                keep = _DESCRIPTION_SECONDS if numbers is not None else _DESCRIPTION_RETRY_SECONDS
                self._described = (time.monotonic() + keep, numbers, union)
            return self._described[1], self._described[2]

    def _statistics(self) -> dict | None:
        try:
            return void_statistics(lambda query, union: self._select(query))
        except ProtocolError as error:
            log.warning("VoID statistics of the SPARQL backend %s are unavailable: %s", self.where, error)
            return None

    def _select(self, query: str) -> list:
        deadline = time.monotonic() + self.settings.timeout
        with self._post([("query", query)], _RESULTS_ACCEPT, deadline) as response, \
                self._reading(self.settings.timeout):
            return list(_parsed(response, deadline, graph_form=False))

    def _declares_union(self) -> bool:
        """Whether the backend's own service description lists sd:UnionDefaultGraph."""
        try:
            with self._session().get(self.url, headers={"Accept": _DESCRIPTION_ACCEPT}, stream=True,
                                     timeout=(_CONNECT_SECONDS, self.settings.timeout)) as response:
                media = RdfFormat.from_media_type(response.headers.get("Content-Type", ""))
                if response.status_code != 200 or media is None:
                    return False
                data = response.raw.read(_DESCRIPTION_BYTES, decode_content=True)
            return any(quad.predicate == _SD_FEATURE and quad.object == _SD_UNION
                       for quad in parse(data, format=media, base_iri=self.url))
        except (requests.RequestException, SyntaxError, ValueError) as error:
            log.info("no service description from the SPARQL backend %s: %s", self.where, error)
            return False

    def _session(self) -> requests.Session:
        # requests' sessions are not documented as thread-safe: one per worker thread.
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers["User-Agent"] = "parley-serve"
            session.headers.update(dict(self.settings.backend_headers))
            if self.settings.backend_user is not None:
                session.auth = (self.settings.backend_user, self.settings.backend_password)
            self._local.session = session
            with self._sessions_lock:
                self._sessions.append(session)
        return session

    def _post(self, fields: list[tuple[str, str]], accept: str, deadline: float) -> requests.Response:
        """The backend's 200 answer, streaming; any other outcome as the ProtocolError it means."""
        left = max(deadline - time.monotonic(), 0.001)
        try:
            # POST with a form: no URL length limit, and every SPARQL 1.1 endpoint takes it.
            # Redirects are not followed: requests would turn the POST into a GET without a body.
            response = self._session().post(self.url, data=fields, headers={"Accept": accept}, stream=True,
                                            allow_redirects=False, timeout=(min(_CONNECT_SECONDS, left), left))
        except requests.Timeout:
            raise GatewayTimeout(f"the SPARQL backend did not answer within {self.settings.timeout:g} s") from None
        except requests.RequestException as error:
            log.warning("SPARQL backend %s cannot be reached: %s", self.where, error)
            raise UpstreamError("the SPARQL backend cannot be reached; try again later") from None
        if response.status_code != 200:
            with response:
                raise self._refusal(response)
        return response

    def _refusal(self, response: requests.Response) -> ProtocolError:
        code = response.status_code
        message = _message(response)
        if code == 400:
            return MalformedQuery(f"the SPARQL backend refused the query: {message}")
        if code in (408, 504):
            return GatewayTimeout(f"the SPARQL backend gave up on the query (HTTP {code}): {message}")
        if code in (413, 414):
            return PayloadTooLarge(f"the query is too large for the SPARQL backend (HTTP {code})")
        if code in (429, 503):
            retry = response.headers.get("Retry-After", "")
            return Unavailable(f"the SPARQL backend is busy (HTTP {code}); try again later",
                               headers={"Retry-After": retry if retry.isdigit() else "10"})
        # The rest is Parley's configuration or the backend's fault, not the client's: the
        # operator finds the details in the log.
        log.error("SPARQL backend %s answered HTTP %d %s: %s", self.where, code,
                  response.headers.get("Location", ""), message)
        if code in (401, 403):
            return UpstreamError(f"the SPARQL backend refused Parley's credentials (HTTP {code})")
        if 300 <= code < 400:
            return UpstreamError(f"the SPARQL backend redirects (HTTP {code}); its URL is misconfigured")
        return UpstreamError(f"the SPARQL backend failed (HTTP {code}): {message}")

    @contextmanager
    def _reading(self, timeout: float):
        """Failures while the answer streams in, as the ProtocolErrors they mean."""
        try:
            yield
        except _Deadline:
            raise GatewayTimeout(f"the SPARQL backend did not answer within {timeout:g} s") from None
        except _TooLarge:
            raise UpstreamError(f"the SPARQL backend's answer exceeds {_ANSWER_BYTES // 2**20} MiB") from None
        except requests.RequestException as error:
            log.warning("SPARQL backend %s broke off its answer: %s", self.where, error)
            raise UpstreamError("the SPARQL backend broke off its answer") from None
        except SyntaxError as error:
            raise UpstreamError(f"the SPARQL backend's answer does not parse: {error}") from None


def _fields(job: Job) -> list[tuple[str, str]]:
    text = job.query
    if job.shape.relative_iris:
        # Relative IRIs resolve against Parley's endpoint, as on the embedded store. The
        # query's own BASE, if any, comes later and wins; on the same line, the backend's
        # error positions keep their line numbers.
        text = f"BASE {NamedNode(job.base)} {text}"
    fields = [("query", text)]
    fields += [("default-graph-uri", iri) for iri in job.default_graphs or ()]
    fields += [("named-graph-uri", iri) for iri in job.named_graphs or ()]
    return fields


def _parsed(response: requests.Response, deadline: float, graph_form: bool):
    """Solutions, a boolean or triples, parsed lazily from the streaming answer."""
    content_type = response.headers.get("Content-Type", "")
    body = _Stream(response, deadline)
    if graph_form:
        media = RdfFormat.from_media_type(content_type)
        if media is None:
            raise UpstreamError(f"the SPARQL backend answered with {content_type or 'no Content-Type'}, "
                                "not an RDF format Parley reads")
        return (quad.triple for quad in parse(body, format=media, base_iri=response.url))
    media = QueryResultsFormat.from_media_type(content_type)
    if media is None or media == QueryResultsFormat.CSV:  # CSV loses term types
        raise UpstreamError(f"the SPARQL backend answered with {content_type or 'no Content-Type'}, "
                            "not a SPARQL results format Parley reads")
    return parse_query_results(body, format=media)


def _message(response: requests.Response) -> str:
    try:
        raw = response.raw.read(_MESSAGE_BYTES, decode_content=True)
    except (requests.RequestException, OSError):
        raw = b""
    text = " ".join(raw.decode("utf-8", "replace").split())
    return text or response.reason or "no message"


class _Stream(io.RawIOBase):
    """The answer's bytes for a parser; gives up at the deadline or past the size limit."""

    def __init__(self, response: requests.Response, deadline: float):
        self.chunks = response.iter_content(chunk_size=1 << 16)
        self.deadline = deadline
        self.pending = b""
        self.total = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self.pending:
            # Each socket read waits at most the timeout too, so a stalled backend is
            # given up on within about twice the timeout.
            if time.monotonic() > self.deadline:
                raise _Deadline()
            try:
                chunk = next(self.chunks, None)
            except requests.ConnectionError as error:
                # requests reports a read that timed out mid-answer as a connection error.
                if error.args and isinstance(error.args[0], ReadTimeoutError):
                    raise _Deadline() from None
                raise
            if chunk is None:
                return 0
            self.total += len(chunk)
            if self.total > _ANSWER_BYTES:
                raise _TooLarge()
            self.pending = chunk
        size = min(len(buffer), len(self.pending))
        buffer[:size] = self.pending[:size]
        self.pending = self.pending[size:]
        return size
