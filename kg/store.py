"""The on-disk store: staged builds (worked on in memory), an atomic symlink swap, pruning,
a build lock, readers."""
from __future__ import annotations

import fcntl
import itertools
import os
import shutil
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from pyoxigraph import DefaultGraph, NamedNode, Quad, RdfFormat, Store

from .errors import StoreError
from .parsing import FileStream

STAGING_PREFIX = ".staging-"


def builds_dir(store: Path) -> Path:
    """Where the builds behind the `store` symlink live: `DIR.builds/` beside it."""
    return store.with_name(store.name + ".builds")


@contextmanager
def build_lock(store: Path) -> Iterator[None]:
    """Hold the exclusive right to build `store`; a second build fails instead of waiting."""
    if store.exists() and not store.is_symlink():
        raise StoreError(f"{store} is a plain directory, not a Parley build link; kg build "
                         f"never replaces it: move it away or choose another --store")
    folder = builds_dir(store)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise StoreError(f"another build of {store} is running (pid {holder})") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def remove_stale_staging(store: Path) -> list[Path]:
    """Delete what killed builds left behind; call only while holding the build lock."""
    removed = []
    for path in sorted(builds_dir(store).glob(STAGING_PREFIX + "*")):
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def new_staging_dir(store: Path) -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    path = builds_dir(store) / f"{STAGING_PREFIX}{stamp}-{os.getpid()}"
    path.mkdir(parents=True)
    return path


# Quads per `bulk_extend` into the staging store. Each call writes and ingests its own
# RocksDB files (a fixed cost of about 0.2 s), and the bulk loader's buffers grow with the
# batch: 250,000 keeps both small (at 1M triples, peak memory 750 MiB instead of 1.3 GiB
# for one call over everything, in the same time).
STAGING_BATCH = 250_000
# The same bound for N-Quads text loaded into the staging store: about 200,000 quads.
STAGING_BYTES = 40 * 2**20
# Each graph cut out of the N-Quads text is one scan of it: with more graphs than this
# holding blank nodes, every parsed quad is written as a term instead (slower, exact).
_MOST_GRAPHS_CUT = 16
# The graphs whose blank nodes must keep their labels on disk (see load_staged).
_WITH_BLANK_NODES = ("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } "
                     "FILTER (isBlank(?s) || isBlank(?o) || isTriple(?o)) }")


class StagingWrite(threading.Thread):
    """Parsed graphs being written to the staging store, as N-Quads text, in the background.

    A plain thread rather than an executor's future: `join()` returns only once the
    thread has let go of the store, so that a failed build can close RocksDB before it
    deletes the staging directory.
    """

    def __init__(self, staging: Store, text: bytes):
        super().__init__(name="parley-staging", daemon=True)
        self._staging, self._text = staging, text
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            start = 0
            while start < len(self._text):
                end = self._text.find(b"\n", start + STAGING_BYTES) + 1 or len(self._text)
                self._staging.bulk_load(self._text[start:end], format=RdfFormat.N_QUADS)
                start = end
        except BaseException as error:  # raised in the build's thread by result()
            self.error = error
        finally:
            del self._staging, self._text

    def failed(self) -> bool:
        return not self.is_alive() and self.error is not None

    def result(self) -> None:
        """Wait for the write; raise its error if it failed."""
        self.join()
        if self.error is not None:
            raise self.error


def load_staged(stream: FileStream, staging: Store, in_memory_up_to: int
                ) -> tuple[Store, StagingWrite | None]:
    """Parse the files into the build's working store, and write them to the staging store.

    Returns the store the build works in, and the write to staging if it is still going
    on (wait for it before publishing). The phases after parsing are SPARQL joins, 10–16
    times faster in memory than in RocksDB, and they drop scratch graphs, which RocksDB
    does quad by quad; so they work on an in-memory copy, and only the graphs they add
    are written to disk at the end (`write_derived`).

    The files are parsed into memory by pyoxigraph alone (no Python object per triple),
    and go to disk as N-Quads text in a background thread: pyoxigraph's bulk loader
    holds no GIL, so the write takes the second core while the validation phases run.
    Graphs with blank nodes are the exception: the bulk loader gives blank nodes new
    labels, and the graphs written at the end must name the same ones, so those graphs
    (the ontology's, typically) are written as terms, at once.

    Past `in_memory_up_to` quads (checked as the text read grows by a quarter, so the copy
    may pass it by that much before it is dropped) the files are parsed again straight to
    disk, where the build then works: slower, but its memory no longer grows with the
    corpus. The N-Quads text (about 200 bytes a quad) is held until it is written.
    """
    if in_memory_up_to > 0:
        memory = Store()
        if stream.load(memory, up_to=in_memory_up_to):
            if stream.problems:  # the build fails at parsing: nothing to write
                return memory, None
            return memory, _write_parsed(memory, staging)
        del memory
        stream.restart()
    _extend(staging, stream.quads())
    return staging, None


def _extend(staging: Store, quads: Iterable[Quad]) -> None:
    stream = iter(quads)
    while batch := list(itertools.islice(stream, STAGING_BATCH)):
        staging.bulk_extend(batch)


def _write_parsed(memory: Store, staging: Store) -> StagingWrite | None:
    """Write the parsed graphs in `memory` to `staging`; the part still being written."""
    with_blank_nodes = [row["g"] for row in memory.query(_WITH_BLANK_NODES)]
    text, lines = b"", -1
    if len(with_blank_nodes) <= _MOST_GRAPHS_CUT:
        # Each line of the dump ends with its graph (every parsed quad is in a named graph).
        text, lines = _without_graphs(memory.dump(format=RdfFormat.N_QUADS), with_blank_nodes)
    # As terms, labels kept (the ontology's, the shapes'): a few small graphs.
    as_terms = [quad for graph in with_blank_nodes
                for quad in memory.quads_for_pattern(None, None, None, graph)]
    if lines != len(as_terms):
        # Blank nodes in many sources, or not the dump this expects: all as terms.
        _extend(staging, memory.quads_for_pattern(None, None, None, None))
        return None
    _extend(staging, as_terms)
    writer = StagingWrite(staging, text)
    writer.start()
    return writer


def _without_graphs(text: bytes, graphs: list[NamedNode]) -> tuple[bytes, int]:
    """N-Quads `text` without the lines of `graphs`, and how many lines were cut."""
    cut = []
    for graph in graphs:
        tail = f" {graph} .\n".encode()
        at = text.find(tail)
        while at != -1:
            end = at + len(tail)
            cut.append((text.rfind(b"\n", 0, at) + 1, end))
            at = text.find(tail, end)
    if not cut:
        return text, 0
    cut.sort()
    pieces, last = [], 0
    for start, end in cut:
        pieces.append(text[last:start])
        last = end
    pieces.append(text[last:])
    return b"".join(pieces), len(cut)


_UNION = "INSERT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }"
_DEFAULT_GRAPH_SIZE = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


def fill_default_graph(store: Store) -> int:
    """Write the union of the named graphs into the default graph; its size in triples.

    That union is what the endpoint and the library query (docs/design.md): a set, as an
    RDF merge is, where pyoxigraph's own union view would match a triple once per graph
    that states it.
    """
    store.update(_UNION)
    return int(next(iter(store.query(_DEFAULT_GRAPH_SIZE)))["n"].value)


def write_derived(working: Store, staging: Store, parsed: set[NamedNode]) -> int:
    """Copy the graphs the phases added in memory (all but the `parsed` ones) to disk.

    The phases after parsing only add graphs (entailments, links, the build's provenance,
    the default graph's union), never change a parsed one, so this and the parse's writes
    make the whole dataset.
    """
    derived = [g for g in working.named_graphs() if g not in parsed] + [DefaultGraph()]
    counted = 0

    def quads():
        nonlocal counted
        for graph in derived:
            for quad in working.quads_for_pattern(None, None, None, graph):
                counted += 1
                yield quad

    stream = quads()
    while batch := list(itertools.islice(stream, STAGING_BATCH)):
        staging.bulk_extend(batch)
    return counted


def publish(store: Path, staging: Path, keep_previous: int) -> Path:
    """Make the finished staging build the store: rename it, then swap the symlink atomically."""
    final = staging.with_name(staging.name[len(STAGING_PREFIX):].rsplit("-", 1)[0])
    os.rename(staging, final)
    link_tmp = store.with_name(f".{store.name}.link-{os.getpid()}")
    if link_tmp.is_symlink():
        link_tmp.unlink()
    # A relative target keeps the store and its builds movable together.
    link_tmp.symlink_to(os.path.relpath(final, store.parent))
    os.replace(link_tmp, store)
    _fsync_dir(store.parent)
    prune(store, keep_previous)
    return final


def prune(store: Path, keep_previous: int) -> list[Path]:
    """Delete builds older than the current one and the `keep_previous` before it."""
    current = Path(os.path.realpath(store))
    builds = sorted((p for p in builds_dir(store).iterdir()
                     if p.is_dir() and not p.name.startswith(".")), reverse=True)
    older = [p for p in builds if p != current and p.name < current.name]
    removed = []
    for path in older[keep_previous:]:
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def open_read_only(store: Path) -> Store:
    """Open a store for reading; several processes may do so at once."""
    target = Path(os.path.realpath(store))
    if not target.is_dir():
        raise StoreError(f"no store at {store}; run `kg build` first (or pass --store DIR)")
    try:
        return Store.read_only(str(target))
    except OSError as error:
        raise StoreError(f"cannot open the store at {store}: {error}") from None


class StoreReader:
    """A read-only store that reopens itself when a new build has been swapped in."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._target: str | None = None
        self._store: Store | None = None

    @property
    def store(self) -> Store:
        target = os.path.realpath(self.path)
        if self._store is None or target != self._target:
            self._store = open_read_only(self.path)
            self._target = target
        return self._store

    @property
    def build(self) -> str | None:
        """The directory the store currently resolves to (changes with every build)."""
        return self._target


def _fsync_dir(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
