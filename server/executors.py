"""A pool of executor subprocesses: each query runs in one, and is stopped by killing it.

pyoxigraph has no cancellation, so the deadline is enforced from outside: the worker
waits on the executor's pipe until the deadline, then SIGKILLs it and starts a fresh one
in the background. A query that crashes the engine (stack overflow, memory limit) also
ends only its executor.
"""
from __future__ import annotations

import json
import logging
import os
import select
import subprocess
import sys
import threading
import time
from collections import deque

from parley.server.backends import Evaluation, Job
from parley.server.caching import BuildWatch
from parley.server.errors import (MalformedQuery, ProtocolError, QueryTimeout, ResourcesExhausted,
                                  Unavailable, UpstreamError)
from parley.server.evaluation import read_frame, write_frame
from parley.server.guard import explain_syntax_error
from parley.server.settings import ServerSettings

log = logging.getLogger(__name__)
_STARTUP_SECONDS = 120.0  # opening (or copying into memory) a large store takes a while
# A failed executor start is retried after 1, 2, 4 … s, at most this long apart.
_RESPAWN_MAX_SECONDS = 30.0
# Counting VoID numbers can outlast the query timeout on a big store: after a failure the
# description goes out without them, and they are counted again after this long.
_STATISTICS_RETRY_SECONDS = 30.0
# When every executor of a pool has been on its query this long (runaway queries, say),
# a waiting request makes the pool start an overflow executor; one idle this long stops.
_STUCK_SECONDS = 1.0
_OVERFLOW_IDLE_SECONDS = 10.0
_WAIT_STEP_SECONDS = 0.25  # how often a waiting request looks whether the pool is stuck


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
    """One executor subprocess and the two pipes to it.

    An overflow executor reads the store on disk, so that it starts in a fraction of a
    second and holds no copy of the graph.
    """

    def __init__(self, settings: ServerSettings, *, overflow: bool = False):
        self.overflow = overflow
        self.idle_since = 0.0  # monotonic time it last turned idle
        self.retiring = False  # an overflow executor's idle check is scheduled
        self.process = subprocess.Popen(
            [sys.executable, "-m", "parley.server.evaluation", str(settings.store),
             "0" if overflow else _memory_mode(settings), str(settings.executor_memory),
             str(settings.reload_interval)],
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
    """`settings.executors` executors shared by the threads of one worker process.

    While every executor has been busy for over `_STUCK_SECONDS` (runaway queries holding
    them until the timeout), waiting requests get up to `settings.overflow_executors` more,
    so that a few runaways cannot stall everyone else for the whole timeout.
    """

    def __init__(self, settings: ServerSettings):
        self.settings = settings
        self.lock = threading.Lock()
        self.ready = threading.Condition(self.lock)  # notified when an executor turns idle
        self.idle: deque[Executor] = deque()
        self.busy: dict[Executor, float] = {}  # executor -> monotonic time its query started
        self.all: set[Executor] = set()
        self.starting: set[Executor] = set()  # started, not yet ready
        self.closed = False
        self.growing = False  # an overflow executor is being started (not yet in `all`, maybe)
        self._failures = 0  # consecutive failed starts, for the backoff
        starting = [self._spawn() for _ in range(settings.executors)]
        for executor in starting:
            if executor is not None:
                self._admit(executor)

    def _spawn(self, overflow: bool = False) -> Executor | None:
        """A new executor, or None once the pool is closed (close() may run meanwhile)."""
        with self.lock:
            if self.closed:
                return None
        # Started outside the lock, so that taking and releasing executors never waits on a fork.
        executor = Executor(self.settings, overflow=overflow)
        with self.lock:
            # Registered under the lock, so close() either sees it or it is stopped here.
            if not self.closed:
                self.all.add(executor)
                self.starting.add(executor)
                return executor
        executor.kill()
        return None

    def _admit(self, executor: Executor) -> None:
        try:
            ready = executor.wait_ready()
            usable = bool(ready["ok"])
        except Exception as error:  # whatever went wrong, this executor never serves
            with self.lock:
                self.starting.discard(executor)
            self._discard(executor)
            if executor.overflow:  # not retried: the next stuck wait asks again
                log.error("overflow query executor %s failed to start (%s)", executor.process.pid,
                          type(error).__name__)
                return
            self._retry_later(f"query executor {executor.process.pid} failed to start ({type(error).__name__})")
            return
        with self.lock:
            self.starting.discard(executor)
            if not executor.overflow:
                self._failures = 0
        if not usable:
            log.warning("query executor %s: %s", executor.process.pid, ready["message"])
        self._release(executor)

    def _retry_later(self, problem: str) -> None:
        """Start a replacement after a growing delay (1, 2, 4 … s, at most 30)."""
        with self.lock:
            if self.closed:
                return
            self._failures += 1
            delay = min(2.0 ** (self._failures - 1), _RESPAWN_MAX_SECONDS)
        log.error("%s; trying again in %g s", problem, delay)
        retry = threading.Timer(delay, self._replace)
        retry.daemon = True  # a pending retry must not keep the worker alive at exit
        retry.start()

    def _replace(self) -> None:
        try:
            executor = self._spawn()
        except Exception as error:  # e.g. no process could be started
            self._retry_later(f"could not start a query executor ({error})")
            return
        if executor is not None:
            self._admit(executor)

    def _grow(self) -> None:
        try:
            executor = self._spawn(overflow=True)
            if executor is not None:
                log.warning("every query executor of worker %s has been busy for over %g s; "
                            "started overflow executor %s", os.getpid(), _STUCK_SECONDS, executor.process.pid)
                self._admit(executor)
        except Exception as error:  # no process could be started: the next stuck wait asks again
            log.error("could not start an overflow query executor: %s", error)
        finally:
            with self.lock:
                self.growing = False

    def _discard(self, executor: Executor) -> None:
        executor.kill()
        with self.lock:
            self.all.discard(executor)

    def _release(self, executor: Executor) -> None:
        """Make `executor` idle (or stop it if the pool closed meanwhile)."""
        with self.ready:
            self.busy.pop(executor, None)
            if not self.closed:
                executor.idle_since = time.monotonic()
                self.idle.append(executor)
                self.ready.notify()
                if executor.overflow and not executor.retiring:
                    executor.retiring = True
                    self._retire_later(executor, _OVERFLOW_IDLE_SECONDS)
                return
        self._discard(executor)

    def _retire_later(self, executor: Executor, seconds: float) -> None:
        timer = threading.Timer(seconds, self._retire, (executor,))
        timer.daemon = True
        timer.start()

    def _retire(self, executor: Executor) -> None:
        """Stop an overflow executor once it has been idle `_OVERFLOW_IDLE_SECONDS`."""
        with self.lock:
            if executor not in self.all:
                return
            idle_for = time.monotonic() - executor.idle_since if executor in self.idle else 0.0
            if idle_for < _OVERFLOW_IDLE_SECONDS:
                self._retire_later(executor, _OVERFLOW_IDLE_SECONDS - idle_for)
                return
            self.idle.remove(executor)
        log.info("overflow query executor %s stopped after %g s idle", executor.process.pid, idle_for)
        self._discard(executor)

    def _take(self, deadline: float, timeout: float) -> Executor:
        with self.ready:
            while not self.idle:
                if self.closed:
                    raise Unavailable("the server is shutting down; try again", headers={"Retry-After": "5"})
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Unavailable(f"all query executors stayed busy for {timeout:g} s; try again",
                                      headers={"Retry-After": "5"})
                self.ready.wait(min(left, _WAIT_STEP_SECONDS))
                if not self.idle:
                    self._grow_if_stuck()
            # Prefer an executor holding the store in memory; else the overflow executor used
            # last, so that the others stay idle and retire.
            executor = next((e for e in self.idle if not e.overflow), None) or max(
                self.idle, key=lambda e: e.idle_since)
            self.idle.remove(executor)
            self.busy[executor] = time.monotonic()
            return executor

    def _grow_if_stuck(self) -> None:
        """With the lock held: start an overflow executor if every executor is stuck."""
        if self.closed or self.growing or not self.busy:
            return
        # While `growing`, the executor being started may not be in `all` yet: no second one.
        if sum(executor.overflow for executor in self.all) >= self.settings.overflow_executors:
            return
        if any(not executor.overflow for executor in self.starting):
            return  # a replacement (of a stopped runaway, say) is about to be free
        since = time.monotonic() - _STUCK_SECONDS
        if any(started > since for started in self.busy.values()):
            return
        self.growing = True
        threading.Thread(target=self._grow, daemon=True).start()

    def run(self, request: dict, timeout: float) -> tuple[dict, bytes]:
        """Evaluate `request` in an idle executor within `timeout` seconds, waiting included."""
        deadline = time.monotonic() + timeout
        executor = self._take(deadline, timeout)
        try:
            reply = executor.run(request, deadline)
        except _Deadline:
            log.warning("query of %d characters stopped at the %g s limit (executor %s killed)",
                        len(request.get("query", "")), self.settings.timeout, executor.process.pid)
            self._restart(executor)
            raise QueryTimeout(
                f"the query ran longer than the {self.settings.timeout:g} s limit and was stopped; "
                "ask for less (fewer unbound patterns, a LIMIT, a smaller UNION or property path)"
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
        self._release(executor)
        return reply

    def _restart(self, executor: Executor) -> None:
        with self.lock:
            self.busy.pop(executor, None)
        self._discard(executor)
        if not executor.overflow:  # an overflow executor is not replaced
            threading.Thread(target=self._replace, daemon=True).start()

    def close(self) -> None:
        with self.ready:
            self.closed = True
            executors = list(self.all)
            self.idle.clear()
            self.ready.notify_all()
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
            _fail(header, job)
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
                    _fail(header)
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


def _fail(header: dict, job: Job | None = None):
    if header["error"] == "syntax":
        message = explain_syntax_error(job.query, header["message"]) if job else header["message"]
        raise MalformedQuery(f"malformed query: {message}")
    if header["error"] == "unavailable":
        raise Unavailable(header["message"], headers={"Retry-After": "10"})
    if job is not None and job.shape.services:
        log.warning("a federated (SERVICE) call failed: %s", header["message"])
        raise UpstreamError(f"a federated (SERVICE) call failed: {header['message']}")
    raise RuntimeError(f"query evaluation failed: {header['message']}")
