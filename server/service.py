"""The query service behind the routes: guard, cache and backend put together for one worker."""
from __future__ import annotations

import functools
import threading
from collections.abc import Mapping
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

from parley.kg.catalog import SavedQuery
from parley.kg.querying import Term, query_with_values
from parley.server.backends import Backend, Job
from parley.server.caching import Answer, AnswerCache, etag_for
from parley.server.errors import QueryTimeout
from parley.server.executors import EmbeddedBackend
from parley.server.guard import QueryShape, inspect_query
from parley.server.negotiation import GRAPHS, RESULTS, Format, choose
from parley.server.remote import RemoteBackend
from parley.server.settings import ServerSettings


@dataclass(frozen=True)
class QueryRequest:
    """One query as the protocol layer understood it."""

    query: str
    base: str  # the endpoint URL: relative IRIs in the query resolve against it
    default_graphs: tuple[str, ...] | None  # protocol dataset (default-graph-uri), None if not given
    named_graphs: tuple[str, ...] | None
    accept: str | None
    format: str | None  # the `format=` shortcut, overriding Accept


def saved_query_request(saved: SavedQuery, bindings: Mapping[str, Term], base: str,
                        accept: str | None, format: str | None = None) -> QueryRequest:
    """A saved query with its parameters bound, as the API and the warm cache ask it.

    The parameters travel as VALUES blocks of validated terms, as on every path
    (kg.querying.with_leading_values), so the embedded executors and a remote backend
    both take plain query text and plan it as the library does.
    """
    return QueryRequest(query=query_with_values(saved, bindings), base=base, default_graphs=None,
                        named_graphs=None, accept=accept, format=format)


@dataclass(frozen=True)
class Outcome:
    answer: Answer
    cached: bool


def open_backend(settings: ServerSettings) -> Backend:
    """The remote endpoint of `settings.backend`, else the embedded store."""
    return RemoteBackend(settings) if settings.backend else EmbeddedBackend(settings)


class QueryService:
    def __init__(self, settings: ServerSettings, backend: Backend | None = None):
        self.settings = settings
        self.backend = backend or open_backend(settings)
        self.cache = AnswerCache(settings.cache_bytes)
        self.warmer = None  # a warming.Warmer once the app starts one
        self._pending: dict[str, Future] = {}  # ETag -> the evaluation identical requests wait for
        self._lock = threading.Lock()
        self._inspect = functools.lru_cache(maxsize=4096)(self._inspect_uncached)

    def _inspect_uncached(self, query: str) -> QueryShape:
        return inspect_query(query, max_depth=self.settings.max_depth,
                             service_allowlist=self.settings.service_allowlist)

    def shape(self, query: str) -> QueryShape:
        return self._inspect(query)

    def negotiate(self, shape: QueryShape, accept: str | None, short: str | None) -> Format:
        # An unrecognised form is left for the parser to reject; any format will do.
        return choose(GRAPHS if shape.returns_graph else RESULTS, accept, short)

    def key(self, request: QueryRequest, shape: QueryShape, media: Format, build: str) -> tuple:
        # The base changes an answer only through relative IRIs; without them, clients
        # that reach the server by different names share answers (and the warm cache).
        base = request.base if shape.relative_iris else None
        return (build, request.query, base, request.default_graphs, request.named_graphs,
                media.media_type, self.settings.row_cap)

    def current_etag(self, request: QueryRequest) -> tuple[QueryShape, Format, str | None]:
        """The guard's verdict, the negotiated format and the ETag the answer will carry.

        The ETag is None when the backend cannot name its data before answering (a
        remote endpoint); the answer's own tag is then derived from its content.
        """
        shape, media, _, etag = self._tagged(request)
        return shape, media, etag

    def _tagged(self, request: QueryRequest) -> tuple[QueryShape, Format, str | None, str | None]:
        shape = self.shape(request.query)
        media = self.negotiate(shape, request.accept, request.format)
        build = self.backend.build()
        return shape, media, build, None if build is None else etag_for(self.key(request, shape, media, build))

    def answer(self, request: QueryRequest) -> Outcome:
        shape, media, build, etag = self._tagged(request)
        caching = bool(self.settings.cache_bytes) and etag is not None
        cached = self.cache.get(etag) if caching else None
        if cached is not None:
            return Outcome(cached, True)
        if not caching:
            return Outcome(self._evaluate(request, shape, media, build, etag), False)
        # Identical requests that miss together share one evaluation: the first evaluates,
        # the others wait for its answer (or its error) rather than each taking an executor.
        with self._lock:
            pending = self._pending.get(etag)
            leader = pending is None
            if leader:
                pending = self._pending[etag] = Future()
        if not leader:
            try:
                return Outcome(pending.result(timeout=self.settings.timeout), True)
            except FutureTimeout:
                raise QueryTimeout(f"an identical query was still running after "
                                   f"{self.settings.timeout:g} s; try again later") from None
        try:
            answer = self._evaluate(request, shape, media, build, etag)
        except BaseException as error:
            pending.set_exception(error)
            raise
        else:
            self.cache.put(answer)
            pending.set_result(answer)
        finally:
            with self._lock:
                del self._pending[etag]
        return Outcome(answer, False)

    def _evaluate(self, request: QueryRequest, shape: QueryShape, media: Format,
                  build: str | None, etag: str | None) -> Answer:
        evaluation = self.backend.evaluate(Job(
            query=request.query, base=request.base, default_graphs=request.default_graphs,
            named_graphs=request.named_graphs, shape=shape, media=media, row_cap=self.settings.row_cap,
        ), self.settings.timeout)
        # The tag names the build that answered: a new one may have opened meanwhile.
        if etag is None or evaluation.build != build:
            etag = etag_for(self.key(request, shape, media, evaluation.build))
        return Answer(evaluation.body, media.content_type, etag, evaluation.truncated)

    def statistics(self) -> dict | None:
        """VoID numbers of the data ({"default": ..., "graphs": [...]}), None if unavailable."""
        return self.backend.statistics()

    def union_default_graph(self) -> bool:
        return self.backend.union_default_graph()

    def close(self) -> None:
        if self.warmer is not None:
            self.warmer.stop()
        self.backend.close()
