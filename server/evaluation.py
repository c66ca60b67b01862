"""The executor process: opens the store, evaluates one query at a time, replies with serialized bytes.

Run as `python -m parley.server.evaluation STORE IN_MEMORY MEMORY_LIMIT RELOAD_INTERVAL`
by `parley.server.executors`; it speaks length-prefixed frames on its stdin/stdout. The
parent kills it (SIGKILL) when a query outlives its deadline, because pyoxigraph cannot
cancel a query; a crash of the parser or engine also ends only this process.
"""
from __future__ import annotations

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
    RdfFormat,
    Store,
    parse_query_results,
    serialize,
)

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


def write_frame(fd: int, payload: bytes) -> None:
    view = memoryview(_LENGTH.pack(len(payload)) + payload)
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


class StoreHolder:
    """The open store and the build it came from; reopens a new build between queries."""

    def __init__(self, path: str, in_memory: str, reload_interval: float):
        self.path = path
        # "1": copy into memory; "0": read on disk; "auto:N": copy when at most N quads.
        self.in_memory = in_memory
        self.reload_interval = reload_interval
        self.store: Store | None = None
        self.generation = ""
        self.problem = ""
        self.checked = 0.0
        self.refresh(force=True)

    def refresh(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.checked < self.reload_interval:
            return
        self.checked = now
        current = generation(self.path)
        if current == self.generation and self.store is not None:
            return
        try:
            store = Store.read_only(os.path.realpath(self.path))
            if self._copy_to_memory(store):
                copy = Store()
                copy.bulk_extend(store)
                store = copy
        except OSError as error:
            self.problem = f"the graph store at {self.path} cannot be opened: {error}"
            return
        self.store, self.generation, self.problem = store, current, ""

    def _copy_to_memory(self, store: Store) -> bool:
        if self.in_memory.startswith("auto:"):
            limit = int(self.in_memory.split(":", 1)[1])
            # Counting stops at the limit: a huge store is not scanned just to be refused.
            return sum(1 for _ in itertools.islice(store, limit + 1)) <= limit
        return self.in_memory == "1"


def evaluate(holder: StoreHolder, request: dict) -> tuple[dict, bytes]:
    holder.refresh()
    if holder.store is None:
        return {"ok": False, "error": "unavailable", "message": holder.problem}, b""
    if request["op"] == "statistics":
        return {"ok": True, "generation": holder.generation}, json.dumps(statistics(holder.store)).encode()
    try:
        options: dict = {"base_iri": request["base"]}
        if request["default_graphs"] is not None:
            options["default_graph"] = [NamedNode(iri) for iri in request["default_graphs"]]
        if request["named_graphs"] is not None:
            options["named_graphs"] = [NamedNode(iri) for iri in request["named_graphs"]]
        if request["union"]:
            options["use_default_graph_as_union"] = True
        result = holder.store.query(request["query"], **options)
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
        "generation": holder.generation,
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
    rows = []
    for row in result:
        rows.append(row)
        if len(rows) > row_cap:
            break
    truncated = len(rows) > row_cap
    rows = rows[:row_cap]
    if kind == "triples":
        return serialize(rows, format=getattr(RdfFormat, formats["triples"])), len(rows), truncated
    # pyoxigraph serializes only whole result sets, so the capped rows go back through its
    # TSV parser (terms in TSV are exactly their str()) and out through its own writers.
    names = [variable.value for variable in result.variables]
    lines = ["\t".join(f"?{name}" for name in names)]
    lines.extend("\t".join("" if row[name] is None else str(row[name]) for name in names) for row in rows)
    capped = parse_query_results(("\n".join(lines) + "\n").encode(), format=QueryResultsFormat.TSV)
    return capped.serialize(format=getattr(QueryResultsFormat, formats["solutions"])), len(rows), truncated


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


def statistics(store: Store) -> dict:
    """VoID numbers for the union default graph and for each named graph of `store`."""
    return void_statistics(lambda query, union: store.query(query, use_default_graph_as_union=union))


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


def serve(path: str, in_memory: str, reload_interval: float) -> None:
    requests_fd, replies_fd = os.dup(0), os.dup(1)
    # Anything the engine prints must not corrupt the frames: stdout goes to stderr.
    os.dup2(2, 1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    holder = StoreHolder(path, in_memory, reload_interval)
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
        write_frame(replies_fd, json.dumps(header).encode())
        write_frame(replies_fd, body)


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
    if int(memory_limit) > 0:
        resource.setrlimit(resource.RLIMIT_AS, (int(memory_limit), int(memory_limit)))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group; the parent decides
    threading.stack_size(_STACK_BYTES)
    worker = threading.Thread(target=serve, args=(path, in_memory, float(reload_interval)))
    worker.start()
    worker.join()


if __name__ == "__main__":
    main(sys.argv[1:])
