"""A pool of executor subprocesses: each query runs in one, and is stopped by killing it.

pyoxigraph has no cancellation, so the deadline is enforced from outside: the worker
waits on the executor's pipe until the deadline, then SIGKILLs it and starts a fresh one
in the background. A query that crashes the engine (stack overflow, memory limit) also
ends only its executor.
"""
from __future__ import annotations

import json
import logging
import queue
import select
import subprocess
import sys
import threading
import time

from parley.server.backends import Evaluation, Job
from parley.server.caching import BuildWatch
from parley.server.errors import (MalformedQuery, ProtocolError, QueryTimeout, ResourcesExhausted,
                                  Unavailable, UpstreamError)
from parley.server.evaluation import read_frame, write_frame
from parley.server.settings import ServerSettings

log = logging.getLogger(__name__)
_STARTUP_SECONDS = 120.0  # opening (or copying into memory) a large store takes a while
# A failed executor start is retried after 1, 2, 4 … s, at most this long apart.
_RESPAWN_MAX_SECONDS = 30.0
# Counting VoID numbers can outlast the query timeout on a big store: after a failure the
# description goes out without them, and they are counted again after this long.
_STATISTICS_RETRY_SECONDS = 30.0


class _Deadline(Exception):
    pass


class _Died(Exception):
    pass


def _memory_mode(settings: ServerSettings) -> str:
    """How an executor holds the store: "1" in memory, "0" on disk, "auto:N" up to N quads."""
    if settings.in_memory is None:
        return f"auto:{settings.in_memory_max_quads}"
    return "1" if settings.in_memory else "0"


class Executor:
    """One executor subprocess and the two pipes to it."""

    def __init__(self, settings: ServerSettings):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "parley.server.evaluation", str(settings.store),
             _memory_mode(settings), str(settings.executor_memory), str(settings.reload_interval)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            bufsize=0,
        )
        self.requests = self.process.stdin.fileno()
        self.replies = self.process.stdout.fileno()

    def wait_ready(self) -> dict:
        return json.loads(self._read_frame(time.monotonic() + _STARTUP_SECONDS))

    def run(self, request: dict, deadline: float) -> tuple[dict, bytes]:
        try:
            write_frame(self.requests, json.dumps(request).encode())
        except (BrokenPipeError, OSError) as error:
            raise _Died(str(error)) from None
        header = json.loads(self._read_frame(deadline))
        return header, self._read_frame(deadline)

    def _read_frame(self, deadline: float) -> bytes:
        poller = select.poll()
        poller.register(self.replies, select.POLLIN | select.POLLHUP | select.POLLERR)

        def wait() -> None:
            left = deadline - time.monotonic()
            if left <= 0 or not poller.poll(left * 1000):
                raise _Deadline()

        try:
            return read_frame(self.replies, wait)
        except EOFError:
            raise _Died("executor exited") from None

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self.process.stdin.close()
        self.process.stdout.close()


class ExecutorPool:
    """`settings.executors` executors shared by the threads of one worker process."""

    def __init__(self, settings: ServerSettings):
        self.settings = settings
        self.idle: queue.Queue[Executor] = queue.Queue()
        self.all: set[Executor] = set()
        self.lock = threading.Lock()
        self.closed = False
        self._failures = 0  # consecutive failed starts, for the backoff
        starting = [self._spawn() for _ in range(settings.executors)]
        for executor in starting:
            if executor is not None:
                self._admit(executor)

    def _spawn(self) -> Executor | None:
        """A new executor, or None once the pool is closed (close() may run meanwhile)."""
        with self.lock:
            # Checked and registered under the lock, so close() either sees it or stops it.
            if self.closed:
                return None
            executor = Executor(self.settings)
            self.all.add(executor)
        return executor

    def _admit(self, executor: Executor) -> None:
        try:
            ready = executor.wait_ready()
        except (_Deadline, _Died, ValueError):
            self._discard(executor)
            with self.lock:
                if self.closed:
                    return
                self._failures += 1
                delay = min(2.0 ** (self._failures - 1), _RESPAWN_MAX_SECONDS)
            log.error("query executor %s failed to start; trying again in %g s",
                      executor.process.pid, delay)
            retry = threading.Timer(delay, self._replace)
            retry.daemon = True  # a pending retry must not keep the worker alive at exit
            retry.start()
            return
        with self.lock:
            self._failures = 0
        if not ready["ok"]:
            log.warning("query executor %s: %s", executor.process.pid, ready["message"])
        self.idle.put(executor)

    def _replace(self) -> None:
        executor = self._spawn()
        if executor is not None:
            self._admit(executor)

    def _discard(self, executor: Executor) -> None:
        executor.kill()
        with self.lock:
            self.all.discard(executor)

    def run(self, request: dict, timeout: float) -> tuple[dict, bytes]:
        """Evaluate `request` in an idle executor within `timeout` seconds, waiting included."""
        deadline = time.monotonic() + timeout
        try:
            executor = self.idle.get(timeout=timeout)
        except queue.Empty:
            raise Unavailable(f"all query executors stayed busy for {timeout:g} s; try again",
                              headers={"Retry-After": "5"}) from None
        try:
            reply = executor.run(request, deadline)
        except _Deadline:
            self._restart(executor)
            raise QueryTimeout(
                f"the query ran longer than the {self.settings.timeout:g} s limit and was stopped; "
                "narrow it (fewer unbound patterns, a LIMIT) or ask for less"
            ) from None
        except _Died as error:
            log.warning("query executor %s died (%s) on a query of %d characters",
                        executor.process.pid, error, len(request.get("query", "")))
            self._restart(executor)
            limit = self.settings.executor_memory / 2**30
            raise ResourcesExhausted(
                f"the query needed more memory than an executor may use beyond the store ({limit:g} GiB), "
                "or more stack, and was stopped; narrow it or ask for less"
            ) from None
        except BaseException:
            self._restart(executor)  # its pipe state is unknown now
            raise
        self.idle.put(executor)
        return reply

    def _restart(self, executor: Executor) -> None:
        self._discard(executor)
        threading.Thread(target=self._replace, daemon=True).start()

    def close(self) -> None:
        with self.lock:
            self.closed = True
            executors = list(self.all)
        for executor in executors:
            self._discard(executor)


class EmbeddedBackend:
    """The store at `settings.store`, read by a pool of executors; its build keys every answer."""

    def __init__(self, settings: ServerSettings):
        self.settings = settings
        self.pool = ExecutorPool(settings)
        self.watch = BuildWatch(str(settings.store), settings.reload_interval)
        self._statistics: tuple[str, dict] | None = None  # (build, numbers)
        self._statistics_lock = threading.Lock()
        self._statistics_retry = 0.0  # monotonic time before which a failed count is not retried

    def build(self) -> str:
        return self.watch.current()

    def evaluate(self, job: Job, timeout: float) -> Evaluation:
        dataset = job.protocol_dataset
        header, body = self.pool.run({
            "op": "query",
            "query": job.query,
            "base": job.base,
            "default_graphs": list(job.default_graphs or ()) if dataset else None,
            "named_graphs": list(job.named_graphs or ()) if dataset else None,
            # The default graph is the union of all graphs unless the request or the
            # query names a dataset (pyoxigraph's union flag would override FROM).
            "union": not dataset and not job.shape.has_dataset,
            "formats": {"solutions": job.media.name, "boolean": job.media.name, "triples": job.media.name},
            "row_cap": job.row_cap,
        }, timeout)
        if not header["ok"]:
            _fail(header, federated=bool(job.shape.services))
        # The executor names the build it actually answered from.
        return Evaluation(body, header["generation"], header["truncated"])

    def statistics(self) -> dict | None:
        """Computed once per build; None while they cannot be (the description omits them)."""
        # One thread counts while the others wait for its numbers, rather than all counting.
        with self._statistics_lock:
            build = self.watch.current()
            if self._statistics is not None and self._statistics[0] == build:
                return self._statistics[1]
            if time.monotonic() < self._statistics_retry:
                return None
            try:
                header, body = self.pool.run({"op": "statistics"}, self.settings.timeout)
                if not header["ok"]:
                    _fail(header, federated=False)
            except (ProtocolError, RuntimeError) as error:
                log.warning("VoID statistics of the store are unavailable (retried in %g s): %s",
                            _STATISTICS_RETRY_SECONDS, error)
                self._statistics_retry = time.monotonic() + _STATISTICS_RETRY_SECONDS
                return None
            self._statistics = (header["generation"], json.loads(body))
            return self._statistics[1]

    def union_default_graph(self) -> bool:
        return True

    def close(self) -> None:
        self.pool.close()


def _fail(header: dict, federated: bool):
    if header["error"] == "syntax":
        raise MalformedQuery(f"malformed query: {header['message']}")
    if header["error"] == "unavailable":
        raise Unavailable(header["message"], headers={"Retry-After": "10"})
    if federated:
        raise UpstreamError(f"a federated (SERVICE) call failed: {header['message']}")
    raise RuntimeError(f"query evaluation failed: {header['message']}")
