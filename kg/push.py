"""`kg push`: copy the store's named graphs into a remote SPARQL 1.1 store, then verify counts."""
from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pyoxigraph import BlankNode, DefaultGraph, NamedNode, Store

from .errors import UsageError
from .remote import (GSP, N_TRIPLES, Endpoints, RemoteSession, RemoteSettings,
                     RemoteStoreError, count_remote, redact, resolve_endpoints)
from .store import open_read_only


@dataclass(frozen=True)
class PushSettings:
    """One push: what to read, where to write, how; assembled once at the edge."""

    store: Path
    target: str
    remote: RemoteSettings = RemoteSettings()
    protocol: str | None = None  # None: probe the target
    query_endpoint: str | None = None  # None: probe the target and its siblings
    update_endpoint: str | None = None  # None: the target itself
    graphs: tuple[str, ...] = ()  # empty: every named graph of the store
    batch_triples: int = 10_000
    replace: bool = True
    dry_run: bool = False


@dataclass
class GraphResult:
    graph: str
    local: int = 0
    batches: int = 0
    before: int | None = None  # remote count before (append and dry run only)
    after: int | None = None  # remote count after the push
    seconds: float = 0.0

    def problem(self, replace: bool) -> str | None:
        """Why the remote count disagrees with what was pushed, or None."""
        if self.after is None:
            return None
        if replace:
            if self.after == self.local:
                return None
            return f"<{self.graph}>: {self.local} triples pushed, {self.after} in the remote graph"
        # Appending merges with what was there (RDF graphs are sets): the union holds at
        # least every pushed triple and at most everything before plus everything pushed.
        low, high = max(self.local, self.before or 0), (self.before or 0) + self.local
        if low <= self.after <= high:
            return None
        return (f"<{self.graph}>: {self.local} triples appended to {self.before}, so between "
                f"{low} and {high} expected, {self.after} in the remote graph")


@dataclass
class PushReport:
    target: str
    endpoints: Endpoints
    dry_run: bool
    graphs: list[GraphResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    requests: int = 0
    seconds: float = 0.0

    @property
    def triples(self) -> int:
        return sum(result.local for result in self.graphs)

    def details(self) -> str:
        """One line per graph: what a dry run would send, and what the remote holds now."""
        return "".join(f"<{r.graph}>: {r.local} triples in {r.batches} batch"
                       f"{'es' if r.batches != 1 else ''}"
                       f"{f', remote holds {r.before}' if r.before is not None else ''}\n"
                       for r in self.graphs)

    def summary(self) -> str:
        where = f"{redact(self.target)} by {self.endpoints.protocol}"
        count = f"{len(self.graphs)} graph{'s' if len(self.graphs) != 1 else ''}"
        if self.dry_run:
            return (f"dry run: would push {count}, {self.triples} triples to {where}; "
                    f"nothing was written")
        return (f"pushed {count}, {self.triples} triples to {where} "
                f"({self.requests} requests, {self.seconds:.2f} s); triple counts match at "
                f"{redact(self.endpoints.query)}")


class Progress:
    """Told what `push` is doing; the default says nothing."""

    def graph_started(self, graph: str, index: int, total: int) -> None: ...

    def batch_sent(self, graph: str, triples: int) -> None: ...

    def graph_finished(self, result: GraphResult) -> None: ...


class TerminalProgress(Progress):
    """A line per graph, updated after each batch, on a stream that is a terminal."""

    def __init__(self, stream):
        self.stream = stream
        self.visible = stream.isatty()
        self.prefix = ""

    def graph_started(self, graph: str, index: int, total: int) -> None:
        self.prefix = f"[{index}/{total}] <{graph}>"
        self._write(f"{self.prefix} …")

    def batch_sent(self, graph: str, triples: int) -> None:
        self._write(f"\r\x1b[K{self.prefix} … {triples} triples")

    def graph_finished(self, result: GraphResult) -> None:
        plural = "es" if result.batches != 1 else ""
        self._write(f"\r\x1b[K{self.prefix} {result.local} triples, {result.batches} "
                    f"batch{plural}, {result.seconds:.2f} s\n")

    def _write(self, text: str) -> None:
        if self.visible:
            self.stream.write(text)
            self.stream.flush()


def push(settings: PushSettings, *, session: RemoteSession | None = None,
         progress: Progress | None = None) -> PushReport:
    """Push the selected graphs, then compare the remote count of each with what was sent."""
    if settings.batch_triples < 1:
        raise UsageError(f"--batch-triples must be at least 1, not {settings.batch_triples}")
    progress = progress or Progress()
    started = time.monotonic()
    store = open_read_only(settings.store)
    graphs, warnings = select_graphs(store, settings.graphs)
    owned = session is None
    session = session or RemoteSession(settings.remote)
    try:
        endpoints = resolve_endpoints(session, settings.target, protocol=settings.protocol,
                                      query_endpoint=settings.query_endpoint,
                                      update_endpoint=settings.update_endpoint)
        report = PushReport(settings.target, endpoints, settings.dry_run, warnings=warnings)
        for index, graph in enumerate(graphs, 1):
            progress.graph_started(graph.value, index, len(graphs))
            clock = time.monotonic()
            result = GraphResult(graph.value)
            if settings.dry_run or not settings.replace:
                result.before = count_remote(session, endpoints.query, graph)
            for batch in batches(store, graph, settings.batch_triples):
                if not settings.dry_run:
                    send_batch(session, endpoints, graph, batch,
                               replace=settings.replace and result.batches == 0)
                result.batches += 1
                result.local += len(batch)
                progress.batch_sent(graph.value, result.local)
            if result.batches == 0 and settings.replace and not settings.dry_run:
                send_batch(session, endpoints, graph, [], replace=True)
            result.seconds = time.monotonic() - clock
            report.graphs.append(result)
            progress.graph_finished(result)
        if not settings.dry_run:
            verify(session, endpoints, report.graphs, settings.replace)
        report.requests = session.requests_sent
        report.seconds = time.monotonic() - started
        return report
    finally:
        if owned:
            session.close()


def _default_graph_has_own_triples(store: Store) -> bool:
    """Whether the default graph holds more than the union of the named graphs a build derives.

    The derived union needs no pushing: the remote store serves its own union of the
    pushed graphs (oxigraph's --union-default-graph, Fuseki's unionDefaultGraph, ...).
    """
    if next(iter(store.quads_for_pattern(None, None, None, DefaultGraph())), None) is None:
        return False
    return bool(store.query("ASK { ?s ?p ?o FILTER NOT EXISTS { GRAPH ?g { ?s ?p ?o } } }"))


def select_graphs(store: Store, wanted: Sequence[str]) -> tuple[list[NamedNode], list[str]]:
    """The named graphs to push, sorted, and warnings about what will not be pushed."""
    present = sorted((g for g in store.named_graphs() if isinstance(g, NamedNode)),
                     key=lambda g: g.value)
    warnings = []
    if not wanted:
        if any(isinstance(g, BlankNode) for g in store.named_graphs()):
            warnings.append("graphs named by blank nodes are not pushed: a remote store "
                            "addresses graphs by IRI")
        if _default_graph_has_own_triples(store):
            warnings.append("the default graph is not pushed: remote stores often serve "
                            "their default graph as the union of all graphs; name it with "
                            "a graph IRI in the build to push it")
        return present, warnings
    chosen = []
    for iri in dict.fromkeys(wanted):
        try:
            graph = NamedNode(iri)
        except ValueError:
            raise UsageError(f"--graph {iri!r} is not an IRI") from None
        if graph not in present:
            known = ", ".join(g.value for g in present) or "none"
            raise UsageError(f"the store has no graph <{iri}>; its graphs: {known}")
        chosen.append(graph)
    return chosen, warnings


def batches(store: Store, graph: NamedNode, size: int) -> Iterator[list[str]]:
    """The graph as lists of N-Triples lines of about `size` triples each.

    Blank nodes are scoped to one request (a GSP POST body or an INSERT DATA), so a blank
    node split over two requests would become two nodes. Every triple that touches a blank
    node is therefore held back and sent with the rest of its blank-node-connected
    component, in one batch; a component larger than `size` is sent as one larger batch.
    The copy stays isomorphic to the local graph and nothing is minted (no skolem IRIs).
    """
    batch: list[str] = []
    parent: dict[str, str] = {}
    held: list[tuple[str, str]] = []  # (blank node label, line)

    def root(label: str) -> str:
        while parent.setdefault(label, label) != label:
            parent[label] = parent[parent[label]]
            label = parent[label]
        return label

    for quad in store.quads_for_pattern(None, None, None, graph):
        line = f"{quad.subject} {quad.predicate} {quad.object} .\n"
        blanks = [t.value for t in (quad.subject, quad.object) if isinstance(t, BlankNode)]
        if not blanks:
            batch.append(line)
            if len(batch) >= size:
                yield batch
                batch = []
            continue
        if len(blanks) == 2:
            parent[root(blanks[0])] = root(blanks[1])
        held.append((blanks[0], line))
    components: dict[str, list[str]] = {}
    for label, line in held:
        components.setdefault(root(label), []).append(line)
    for component in components.values():
        if batch and len(batch) + len(component) > size:
            yield batch
            batch = []
        batch.extend(component)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def send_batch(session: RemoteSession, endpoints: Endpoints, graph: NamedNode,
               lines: list[str], *, replace: bool) -> None:
    """Write one batch; with `replace` it first empties the graph, in the same request."""
    if endpoints.protocol == GSP:
        # PUT replaces the graph by this batch (GSP §5.3); POST merges into it (§5.5).
        session.send("PUT" if replace else "POST", endpoints.write, what="the graph store",
                     params={"graph": graph.value}, data="".join(lines).encode("utf-8"),
                     headers={"Content-Type": N_TRIPLES})
        return
    operations = []
    if replace:
        operations.append(f"CLEAR SILENT GRAPH {graph}")
    if lines:
        operations.append(f"INSERT DATA {{ GRAPH {graph} {{\n{''.join(lines)}}} }}")
    # One request, so that on transactional stores readers never see the graph emptied
    # but not yet refilled; the form encoding is the one every SPARQL 1.1 store accepts.
    session.send("POST", endpoints.write, what="the update endpoint",
                 data={"update": " ;\n".join(operations)})


def verify(session: RemoteSession, endpoints: Endpoints, results: list[GraphResult],
           replace: bool) -> None:
    """Count every pushed graph at the remote store; any disagreement fails the push."""
    for result in results:
        result.after = count_remote(session, endpoints.query, NamedNode(result.graph))
    problems = [p for p in (r.problem(replace) for r in results) if p is not None]
    if problems:
        raise RemoteStoreError(
            f"the triple counts at {redact(endpoints.query)} disagree with what was pushed "
            f"({len(problems)} of {len(results)} graphs):\n    " + "\n    ".join(problems))
