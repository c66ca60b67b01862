"""The warm cache: each build's saved-query answers computed once, before anyone asks.

The graph changes only when a build swaps the store, and the saved queries without
required parameters (the listings the home page and notebooks open with) are the same
request every time; on a large graph some take over 100 ms to evaluate. So when a worker
sees a new build, a background thread asks each of them once, with its defaults, as the
API would (SPARQL JSON results), through the worker's own service: the answers land in
its cache, and the first client gets them as a cache hit. Evaluation goes through the
executors like any request, so a warm-up can never run longer than the query timeout.
"""
from __future__ import annotations

import logging
import threading

from parley.kg.catalog import Catalog
from parley.kg.errors import KGError
from parley.kg.querying import bind_parameters
from parley.server.caching import etag_for
from parley.server.errors import ProtocolError
from parley.server.negotiation import RESULTS
from parley.server.service import QueryService, saved_query_request

log = logging.getLogger(__name__)
# What a client that accepts anything gets, so the answer most clients ask for is warm.
DEFAULT_RESULTS = RESULTS[0].media_type
# Rounds (one per reload interval) a build is asked again while executors still answer
# from the build before; beyond that they cannot open it, and asking more would only load them.
_MAX_ROUNDS = 10


class Warmer:
    """Warms `service`'s cache with `catalog`'s answers for every build it sees."""

    def __init__(self, service: QueryService, catalog: Catalog, base: str):
        self.service = service
        self.catalog = catalog
        self.base = base  # only keys answers of queries with relative IRIs (see QueryService.key)
        self.warmed_build: str | None = None
        self.warmed = threading.Event()  # set after each completed warm-up (tests wait on it)
        self._stop = threading.Event()
        self._trying: str | None = None  # the build being warmed, and the rounds it took so far
        self._rounds = 0

    def start(self) -> None:
        threading.Thread(target=self._run, name="parley-warmer", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        interval = self.service.settings.reload_interval
        while not self._stop.is_set():
            build = self.service.backend.build()
            if build and build != self.warmed_build:
                self.warm(build)
            self._stop.wait(interval)

    def warm(self, build: str) -> int:
        """Ask every saved query that runs with its defaults once; how many were answered.

        The build counts as warm only if every answer came from it: an executor that has
        not switched to it yet answers from the one before (and that answer is keyed by
        that build), so the next round asks again, from the cache for what is done.
        """
        answered, behind = 0, False
        for saved in self.catalog:
            if self._stop.is_set():
                return answered
            try:
                bindings = bind_parameters(saved)
            except KGError:
                continue  # a required parameter without default: no request to foresee
            request = saved_query_request(saved, bindings, self.base, DEFAULT_RESULTS)
            try:
                shape, media, _ = self.service.current_etag(request)
                outcome = self.service.answer(request)
            except (ProtocolError, RuntimeError) as error:
                # A timeout or an executor lost to memory: the client who asks will get
                # the same answer then; nothing else depends on this.
                log.warning("warming the answer of saved query '%s' failed: %s", saved.id, error)
                continue
            answered += 1
            behind = behind or outcome.answer.etag != etag_for(self.service.key(request, shape, media, build))
        self._rounds = self._rounds + 1 if build == self._trying else 1
        self._trying = build
        if behind and self._rounds < _MAX_ROUNDS:
            return answered
        if behind:  # executors that cannot open the build: stop asking, clients will
            log.warning("the executors did not answer from build %s after %d rounds", build, _MAX_ROUNDS)
        self.warmed_build = build
        self.warmed.set()
        return answered
