"""The executor process: opens the store, evaluates one query at a time, replies with serialized bytes.

Run as `python -m parley.server.evaluation STORE IN_MEMORY MEMORY_LIMIT RELOAD_INTERVAL`
by `parley.server.executors`; it speaks length-prefixed frames on its stdin/stdout. The
parent kills it (SIGKILL) when a query outlives its deadline, because pyoxigraph cannot
cancel a query; a crash of the parser or engine also ends only this process.
"""
from __future__ import annotations

import io
import itertools
import json
import os
import resource
import signal
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterable

from pyoxigraph import (
    NamedNode,
    QueryBoolean,
    QueryResultsFormat,
    QuerySolutions,
    QueryTriples,
    RdfFormat,
    Store,
    parse,
    parse_query_results,
    serialize,
)

from parley.kg.querying import needs_union_view

_LENGTH = struct.Struct("!Q")
# The parser and the engine recurse; a big stack moves the crash point far beyond what the
# guard lets through (it only reserves address space: untouched pages cost nothing).
_STACK_BYTES = 512 * 2**20


def generation(path: str | os.PathLike) -> str:
    """Identity of the store build `path` leads to: changes when a build swaps the symlink."""
    real = os.path.realpath(path)
    try:
        info = os.stat(real)
    except OSError:
        return f"{real}:missing"
    return f"{real}:{info.st_ino}:{info.st_mtime_ns}"


def write_frame(fd: int, *payloads: bytes) -> None:
    """Each payload as one length-prefixed frame, all in one write (one wake-up of the reader)."""
    view = memoryview(b"".join(_LENGTH.pack(len(payload)) + payload for payload in payloads))
    while view:
        view = view[os.write(fd, view):]


def read_exact(fd: int, size: int, wait: Callable[[], None] | None = None) -> bytes:
    """`size` bytes from `fd`; `wait()`, if given, runs before each read (and may raise)."""
    chunks, remaining = [], size
    while remaining:
        if wait is not None:
            wait()
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            raise EOFError("peer closed the pipe")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def read_frame(fd: int, wait: Callable[[], None] | None = None) -> bytes:
    (size,) = _LENGTH.unpack(read_exact(fd, _LENGTH.size, wait))
    return read_exact(fd, size, wait)


# A pyoxigraph in-memory store took 0.37-0.46 KB per quad here (1,150,115 generated quads:
# 421 MiB; the article's 117,395: 53 MiB). The memory limit makes room for this much per
# quad of each copy, with a wide margin: a copy that hit the limit would abort the executor.
_COPY_BYTES_PER_QUAD = 2048


class StoreHolder:
    """The open store and the build it came from, kept current by a watcher thread.

    A build is opened on disk at once (read-only, instant) and answers from there; when
    the store is to be held in memory, the watcher copies it and swaps the copy in when it
    is complete (a million quads take about half a minute). So neither the start nor a
    reload makes a query wait, and a new build answers within a reload interval.
    `reserve(bytes)` is called before a copy with the memory the copies may then take.
    """

    def __init__(self, path: str, in_memory: str, reload_interval: float,
                 reserve: Callable[[int], None] = lambda size: None):
        self.path = path
        # "1": copy into memory; "0": read on disk; "auto:N": copy when at most N quads.
        self.in_memory = in_memory
        self.reload_interval = reload_interval
        self.reserve = reserve
        self.store: Store | None = None
        self.generation = ""
        self.problem = ""
        self.to_copy: Store | None = None  # the open on-disk build, until its copy is swapped in
        self.union_view = True  # whether the default graph is pyoxigraph's union view (see kg.querying)
        self.largest_copy = 0  # quads of the largest copy made so far
        self._lock = threading.Lock()
        self._open(generation(path))

    def current(self) -> tuple[Store | None, str, str, bool]:
        """The store to answer from, its build, why there is none, and whether it needs the union view."""
        with self._lock:
            return self.store, self.generation, self.problem, self.union_view

    def refresh(self) -> None:
        """Open the build the path leads to now if it is new, then copy it if it is to be copied."""
        current = generation(self.path)
        if current != self.generation or self.store is None:
            self._open(current)
        if self.to_copy is not None:
            # The pending copy belongs to the build open now: if the new one failed to
            # open, that is still the old one, whose copy is still worth making once.
            self._copy(self.to_copy, self.generation)

    def watch(self) -> None:
        """Follow new builds until the process ends (run in a daemon thread)."""
        while True:
            self.refresh()
            time.sleep(self.reload_interval)

    def _open(self, current: str) -> None:
        try:
            store = Store.read_only(os.path.realpath(self.path))
        except OSError as error:
            with self._lock:
                self.problem = f"the graph store at {self.path} cannot be opened: {error}"
            return
        union_view = needs_union_view(store)
        with self._lock:
            self.store, self.generation, self.problem = store, current, ""
            self.union_view = union_view
            self.to_copy = store if self.in_memory != "0" else None
        _log(f"{os.path.realpath(self.path)} opened on disk")

    def _copy(self, store: Store, current: str) -> None:
        began = time.monotonic()
        quads = len(store)  # native count: 0.7 s for a million quads
        if self.in_memory.startswith("auto:") and quads > int(self.in_memory.split(":", 1)[1]):
            with self._lock:
                self.to_copy = None
            _log(f"{quads} quads: above the in-memory limit, answering from disk")
            return
        # Room for the copy in use and the one being made (a reload holds both a while).
        self.largest_copy = max(self.largest_copy, quads)
        self.reserve(2 * self.largest_copy * _COPY_BYTES_PER_QUAD)
        _log(f"copying {quads} quads into memory")
        copy = Store()
        copy.bulk_extend(store)
        with self._lock:
            if self.generation != current:  # overtaken by a newer build meanwhile
                return
            self.store, self.to_copy = copy, None
        # Operators (and the benchmarks) learn from the log when answers come from memory.
        _log(f"{os.path.realpath(self.path)} held in memory ({quads} quads, "
             f"copied in {time.monotonic() - began:.1f} s)")


def _log(message: str) -> None:
    # stdout is stderr here (see serve), which the server's log collects.
    print(f"[parley executor {os.getpid()}] {message}", file=sys.stderr, flush=True)


def evaluate(holder: StoreHolder, request: dict) -> tuple[dict, bytes]:
    store, build, problem, union_view = holder.current()
    if store is None:
        return {"ok": False, "error": "unavailable", "message": problem}, b""
    if request["op"] == "statistics":
        return {"ok": True, "generation": build}, json.dumps(statistics(store, union_view)).encode()
    try:
        options: dict = {"base_iri": request["base"]}
        if request["default_graphs"] is not None:
            options["default_graph"] = [NamedNode(iri) for iri in request["default_graphs"]]
        if request["named_graphs"] is not None:
            options["named_graphs"] = [NamedNode(iri) for iri in request["named_graphs"]]
        if request["union"] and union_view:
            options["use_default_graph_as_union"] = True
        result = store.query(request["query"], **options)
        body, count, truncated = serialize_result(result, request["formats"], request["row_cap"])
    except (SyntaxError, ValueError) as error:
        # pyoxigraph raises ValueError for what the client wrote too: an invalid IRI
        # (graph IRI, base) or a term the query builds that cannot be written.
        return {"ok": False, "error": "syntax", "message": str(error)}, b""
    except OSError as error:
        # Raised for failed SERVICE calls and for store read errors alike.
        return {"ok": False, "error": "evaluation", "message": str(error)}, b""
    return {
        "ok": True,
        "generation": build,
        "kind": _kind(result),
        "count": count,
        "truncated": truncated,
    }, body


def _kind(result) -> str:
    if isinstance(result, QueryBoolean):
        return "boolean"
    return "solutions" if isinstance(result, QuerySolutions) else "triples"


def serialize_result(result, formats: dict[str, str], row_cap: int) -> tuple[bytes, int, bool]:
    """Bytes of `result` in the format named for its kind, with at most `row_cap` rows."""
    kind = _kind(result)
    if kind == "boolean":
        return result.serialize(format=getattr(QueryResultsFormat, formats["boolean"])), 1, False
    if kind == "solutions":
        # pyoxigraph serializes only whole result sets. Its TSV writer puts one solution per
        # line (it escapes newlines in terms), so the capped answer is the first lines of
        # that, cut while pyoxigraph writes, and read back by its own parser.
        lines, count, truncated = _first_lines(result, QueryResultsFormat.TSV, row_cap, header=1)
        target = getattr(QueryResultsFormat, formats["solutions"])
        if target == QueryResultsFormat.TSV and not truncated:
            return lines, count, False
        capped = parse_query_results(lines, format=QueryResultsFormat.TSV)
        return capped.serialize(format=target), count, truncated
    target = getattr(RdfFormat, formats["triples"])
    if not isinstance(result, QueryTriples):  # triples parsed from a remote answer
        rows = list(itertools.islice(result, row_cap + 1))
        return serialize(rows[:row_cap], format=target), min(len(rows), row_cap), len(rows) > row_cap
    # The same for triples, through N-Triples (one triple per line).
    lines, count, truncated = _first_lines(result, RdfFormat.N_TRIPLES, row_cap, header=0)
    if target == RdfFormat.N_TRIPLES and not truncated:
        return lines, count, False
    # Parsed N-Triples are quads in the default graph, which every RDF format can write.
    return serialize(parse(lines, format=RdfFormat.N_TRIPLES), format=target), count, truncated


class _EnoughLines(Exception):
    pass


class _LineCap(io.RawIOBase):
    """A sink for pyoxigraph's writers that stops them once `limit` lines have been written."""

    def __init__(self, limit: int):
        self.chunks: list[bytes] = []
        self.lines = 0
        self.limit = limit

    def writable(self) -> bool:
        return True

    def write(self, chunk) -> int:
        chunk = bytes(chunk)
        self.chunks.append(chunk)
        self.lines += chunk.count(b"\n")
        if self.lines > self.limit:
            raise _EnoughLines()
        return len(chunk)


def _first_lines(result, format, row_cap: int, header: int) -> tuple[bytes, int, bool]:
    """`result` written in a line-per-row `format`: its first `header` + `row_cap` lines,
    how many rows they hold, and whether more rows followed."""
    sink = _LineCap(header + row_cap)
    try:
        result.serialize(sink, format=format)
    except _EnoughLines:
        pass
    text = b"".join(sink.chunks)
    if sink.lines <= header + row_cap:
        return text, max(sink.lines - header, 0), False
    end = -1
    for _ in range(header + row_cap):
        end = text.index(b"\n", end + 1)
    return text[:end + 1], row_cap, True


_STATISTICS = """
SELECT ?g (COUNT(*) AS ?triples) (COUNT(DISTINCT ?s) AS ?subjects) (COUNT(DISTINCT ?p) AS ?properties)
       (COUNT(DISTINCT ?o) AS ?objects)
WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g
"""
_CLASSES = """
SELECT ?g (COUNT(DISTINCT ?c) AS ?classes)
WHERE { GRAPH ?g { ?s a ?c } } GROUP BY ?g ORDER BY ?g
"""
_TOTALS = """
SELECT (COUNT(*) AS ?triples) (COUNT(DISTINCT ?s) AS ?subjects) (COUNT(DISTINCT ?p) AS ?properties)
       (COUNT(DISTINCT ?o) AS ?objects)
WHERE { ?s ?p ?o }
"""
_TOTAL_CLASSES = "SELECT (COUNT(DISTINCT ?c) AS ?classes) WHERE { ?s a ?c }"
_NUMBERS = ("triples", "subjects", "properties", "objects")


def statistics(store: Store, union_view: bool) -> dict:
    """VoID numbers for the union default graph and for each named graph of `store`."""
    return void_statistics(lambda query, union: store.query(query, use_default_graph_as_union=union and union_view))


def void_statistics(select: Callable[[str, bool], Iterable]) -> dict:
    """VoID numbers for the default graph and each named graph, from `select(query, union)`.

    `union` asks for the union of all graphs as the default graph, where the backend
    lets the caller choose; the numbers describe whatever default graph answered.
    """
    classes = {row["g"].value: int(row["classes"].value) for row in select(_CLASSES, False)}
    graphs = [
        {"name": row["g"].value, **{key: int(row[key].value) for key in _NUMBERS},
         "classes": classes.get(row["g"].value, 0)}
        for row in select(_STATISTICS, False)
    ]
    totals = next(iter(select(_TOTALS, True)))
    default = {key: int(totals[key].value) for key in _NUMBERS}
    default["classes"] = int(next(iter(select(_TOTAL_CLASSES, True)))["classes"].value)
    return {"default": default, "graphs": graphs}


def _limit_address_space(size: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (size, resource.getrlimit(resource.RLIMIT_AS)[1]))


def _address_space() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * resource.getpagesize()


def serve(path: str, in_memory: str, memory_limit: int, reload_interval: float) -> None:
    requests_fd, replies_fd = os.dup(0), os.dup(1)
    # Anything the engine prints must not corrupt the frames: stdout goes to stderr.
    os.dup2(2, 1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    holder = StoreHolder(path, in_memory, reload_interval)
    if memory_limit > 0:
        # Queries may take `memory_limit` beyond what the open store and its in-memory
        # copies need. The soft limit is the one enforced; keeping the hard one lets the
        # watcher raise it once it knows how big a copy will be.
        base = _address_space() + memory_limit
        _limit_address_space(base)
        holder.reserve = lambda size: _limit_address_space(base + size)
    threading.stack_size(0)  # the watcher needs no parser-sized stack (it counts against RLIMIT_AS)
    threading.Thread(target=holder.watch, daemon=True).start()
    write_frame(replies_fd, json.dumps({"ok": not holder.problem, "message": holder.problem}).encode())
    while True:
        try:
            request = json.loads(read_frame(requests_fd))
        except EOFError:
            return
        try:
            header, body = evaluate(holder, request)
        except Exception as error:  # a bug here must reach the worker's log as a 500, not kill us
            header, body = {"ok": False, "error": "internal", "message": repr(error)}, b""
        write_frame(replies_fd, json.dumps(header).encode(), body)


def _exit_with_parent(parent: int) -> None:
    # A worker killed with SIGKILL cannot stop its executors, and a busy executor never
    # sees its stdin close; it checks for itself. (PR_SET_PDEATHSIG would fire when the
    # worker *thread* that started it ends, which the pool's respawn threads do.)
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(0)


def main(argv: list[str]) -> None:
    path, in_memory, memory_limit, reload_interval = argv
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group; the parent decides
    threading.stack_size(_STACK_BYTES)
    worker = threading.Thread(target=serve, args=(path, in_memory, int(memory_limit), float(reload_interval)))
    worker.start()
    worker.join()


if __name__ == "__main__":
    main(sys.argv[1:])
