"""The query service behind the routes: guard, cache and executors put together for one worker."""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass

from parley.server.caching import Answer, AnswerCache, BuildWatch, etag_for
from parley.server.errors import MalformedQuery, Unavailable, UpstreamError
from parley.server.executors import ExecutorPool
from parley.server.guard import QueryShape, inspect_query
from parley.server.negotiation import GRAPHS, RESULTS, Format, choose
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


@dataclass(frozen=True)
class Outcome:
    answer: Answer
    cached: bool


class QueryService:
    def __init__(self, settings: ServerSettings):
        self.settings = settings
        self.pool = ExecutorPool(settings)
        self.cache = AnswerCache(settings.cache_bytes)
        self.watch = BuildWatch(str(settings.store), settings.reload_interval)
        self._statistics: tuple[str, dict] | None = None
        self._inspect = functools.lru_cache(maxsize=4096)(self._inspect_uncached)

    def _inspect_uncached(self, query: str) -> QueryShape:
        return inspect_query(query, max_depth=self.settings.max_depth,
                             service_allowlist=self.settings.service_allowlist)

    def shape(self, query: str) -> QueryShape:
        return self._inspect(query)

    def negotiate(self, shape: QueryShape, accept: str | None, short: str | None) -> Format:
        # An unrecognised form is left for the parser to reject; any format will do.
        return choose(GRAPHS if shape.form in ("CONSTRUCT", "DESCRIBE") else RESULTS, accept, short)

    def key(self, request: QueryRequest, media: Format, build: str) -> tuple:
        return (build, request.query, request.base, request.default_graphs, request.named_graphs,
                media.media_type, self.settings.row_cap)

    def current_etag(self, request: QueryRequest) -> tuple[QueryShape, Format, str]:
        shape = self.shape(request.query)
        media = self.negotiate(shape, request.accept, request.format)
        return shape, media, etag_for(self.key(request, media, self.watch.current()))

    def answer(self, request: QueryRequest) -> Outcome:
        shape, media, etag = self.current_etag(request)
        cached = self.cache.get(etag) if self.settings.cache_bytes else None
        if cached is not None:
            return Outcome(cached, True)
        protocol_dataset = request.default_graphs is not None or request.named_graphs is not None
        header, body = self.pool.run({
            "op": "query",
            "query": request.query,
            "base": request.base,
            "default_graphs": list(request.default_graphs or ()) if protocol_dataset else None,
            "named_graphs": list(request.named_graphs or ()) if protocol_dataset else None,
            # The default graph is the union of all graphs unless the request or the
            # query names a dataset (pyoxigraph's union flag would override FROM).
            "union": not protocol_dataset and not shape.has_dataset,
            "formats": {"solutions": media.name, "boolean": media.name, "triples": media.name},
            "row_cap": self.settings.row_cap,
        }, self.settings.timeout)
        if not header["ok"]:
            self._fail(header, shape)
        # The ETag names the build the executor actually answered from.
        answer = Answer(body, media.content_type, etag_for(self.key(request, media, header["generation"])),
                        header["truncated"])
        if self.settings.cache_bytes:
            self.cache.put(answer)
        return Outcome(answer, False)

    def _fail(self, header: dict, shape: QueryShape):
        if header["error"] == "syntax":
            raise MalformedQuery(f"malformed query: {header['message']}")
        if header["error"] == "unavailable":
            raise Unavailable(header["message"], headers={"Retry-After": "10"})
        if shape.services:
            raise UpstreamError(f"a federated (SERVICE) call failed: {header['message']}")
        raise RuntimeError(f"query evaluation failed: {header['message']}")

    def statistics(self) -> tuple[str, dict]:
        """VoID statistics of the current build, computed once per build."""
        build = self.watch.current()
        if self._statistics is not None and self._statistics[0] == build:
            return self._statistics
        header, body = self.pool.run({"op": "statistics"}, self.settings.timeout)
        if not header["ok"]:
            self._fail(header, QueryShape(form=None, has_dataset=False, services=()))
        self._statistics = (header["generation"], json.loads(body))
        return self._statistics

    def close(self) -> None:
        self.pool.close()
