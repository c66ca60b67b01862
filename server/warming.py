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
from parley.server.errors import ProtocolError
from parley.server.service import QueryService, saved_query_request

log = logging.getLogger(__name__)
JSON_RESULTS = "application/sparql-results+json"


class Warmer:
    """Warms `service`'s cache with `catalog`'s answers for every build it sees."""

    def __init__(self, service: QueryService, catalog: Catalog, base: str):
        self.service = service
        self.catalog = catalog
        self.base = base  # only keys answers of queries with relative IRIs (see QueryService.key)
        self.warmed_build: str | None = None
        self.warmed = threading.Event()  # set after each completed warm-up (tests wait on it)
        self._stop = threading.Event()

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
        """Ask every saved query that runs with its defaults once; how many were answered."""
        answered = 0
        for saved in self.catalog:
            if self._stop.is_set():
                return answered
            try:
                bindings = bind_parameters(saved)
            except KGError:
                continue  # a required parameter without default: no request to foresee
            try:
                self.service.answer(saved_query_request(saved, bindings, self.base, JSON_RESULTS))
                answered += 1
            except (ProtocolError, RuntimeError) as error:
                # A timeout or an executor lost to memory: the client who asks will get
                # the same answer then; nothing else depends on this.
                log.warning("warming the answer of saved query '%s' failed: %s", saved.id, error)
        self.warmed_build = build
        self.warmed.set()
        return answered
