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
import queue
import select
import subprocess
import sys
import threading
import time

from parley.server.backends import Evaluation, Job
from parley.server.caching import BuildWatch
from parley.server.errors import (MalformedQuery, QueryTimeout, ResourcesExhausted, Unavailable,
                                  UpstreamError)
from parley.server.evaluation import write_frame
from parley.server.settings import ServerSettings

log = logging.getLogger(__name__)
_LENGTH_BYTES = 8
_STARTUP_SECONDS = 120.0  # opening (or copying into memory) a large store takes a while


class _Deadline(Exception):
    pass


class _Died(Exception):
    pass


class Executor:
    """One executor subprocess and the two pipes to it."""

    def __init__(self, settings: ServerSettings):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "parley.server.evaluation", str(settings.store),
             "1" if settings.in_memory else "0", str(settings.executor_memory), str(settings.reload_interval)],
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
        size = int.from_bytes(self._read(_LENGTH_BYTES, deadline), "big")
        return self._read(size, deadline)

    def _read(self, size: int, deadline: float) -> bytes:
        chunks, remaining = [], size
        poller = select.poll()
        poller.register(self.replies, select.POLLIN | select.POLLHUP | select.POLLERR)
        while remaining:
            left = deadline - time.monotonic()
            if left <= 0 or not poller.poll(left * 1000):
                raise _Deadline()
            chunk = os.read(self.replies, min(remaining, 1 << 20))
            if not chunk:
                raise _Died("executor exited")
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)

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
        starting = [self._spawn() for _ in range(settings.executors)]
        for executor in starting:
            self._admit(executor)

    def _spawn(self) -> Executor:
        executor = Executor(self.settings)
        with self.lock:
            self.all.add(executor)
        return executor

    def _admit(self, executor: Executor) -> None:
        try:
            ready = executor.wait_ready()
        except (_Deadline, _Died, ValueError):
            if self.closed:
                self._discard(executor)
                return
            log.error("query executor %s failed to start", executor.process.pid)
            self._discard(executor)
            if not self.closed:
                threading.Timer(1.0, self._replace).start()
            return
        if not ready["ok"]:
            log.warning("query executor %s: %s", executor.process.pid, ready["message"])
        self.idle.put(executor)

    def _replace(self) -> None:
        if not self.closed:
            self._admit(self._spawn())

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
                f"the query needed more than the query engine's memory ({limit:g} GiB) or stack and was "
                "stopped; narrow it or ask for less"
            ) from None
        except BaseException:
            self._restart(executor)  # its pipe state is unknown now
            raise
        self.idle.put(executor)
        return reply

    def _restart(self, executor: Executor) -> None:
        self._discard(executor)
        if not self.closed:
            threading.Thread(target=self._replace, daemon=True).start()

    def close(self) -> None:
        self.closed = True
        with self.lock:
            executors = list(self.all)
        for executor in executors:
            self._discard(executor)


class EmbeddedBackend:
    """The store at `settings.store`, read by a pool of executors; its build keys every answer."""

    def __init__(self, settings: ServerSettings):
        self.settings = settings
        self.pool = ExecutorPool(settings)
        self.watch = BuildWatch(str(settings.store), settings.reload_interval)
        self._statistics: tuple[str, dict] | None = None

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

    def statistics(self) -> dict:
        """Computed once per build."""
        build = self.watch.current()
        if self._statistics is not None and self._statistics[0] == build:
            return self._statistics[1]
        header, body = self.pool.run({"op": "statistics"}, self.settings.timeout)
        if not header["ok"]:
            _fail(header, federated=False)
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
