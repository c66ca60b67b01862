"""Endpoint throughput: `kg serve` beside `oxigraph serve` (on disk, in memory) and rdflib-endpoint.

    .venv/bin/python -m bench.endpoint_throughput

One run, same machine, same data: the article graph (the packaged corpus, built by
`kg build`) and generated graphs of ~100k and ~1M triples (bench/generate_corpus.py, built
the same way; `--large` picks the sizes). rdflib-endpoint is measured up to 50,000
triples (`--rdflib-up-to`). The peers serve an N-Quads dump of the very store `kg serve` serves (inferred
and build graphs included, and the default graph the build derives: the union of the
named graphs, as a set), so every server answers over the same default graph.

For each saved query (parameters from its header's example; on the generated graph the
busiest node of the kind, see bench/workload.py) and 1 and 32 connections, wrk measures
requests/s and p50/p90/p99 latency of:
- the peers, asked the plain SPARQL with the values as a VALUES block;
- `kg serve` (--on-disk; and --in-memory, its default up to 3,000,000 quads), asked the same SPARQL with a new
  comment per request, so its answer cache never hits: the work the peers do;
- `kg serve --in-memory` as it runs for its users, asked exactly what the peers are asked:
  "as served". The row count taken at start already evaluated each request, so every
  request of these runs is an answer-cache hit: less work than the peers do;
- `kg serve`'s saved-query API with the answer cache warm, and with If-None-Match (304):
  what HTTP caching buys (at 1 and 32 connections; the cache is warmed for each build);
- all the saved queries as one mix, each wrk thread sending them in turn (as BSBM reports
  query mixes), each run as long as three per-query runs: the geometric mean weighs every
  query alike, the mix by the time each takes.
All servers of a graph run side by side and take turns: each cell is the median of
`--rounds` wrk runs (see measure_graph). Before loading, each endpoint answers each query
once and its row count is recorded, so that a server returning less is visible. A near-static request (`ASK {}` on oxigraph in
memory) bounds what the load generator and loopback HTTP can do on this machine.
Results go to bench/results/endpoint_throughput.json.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

from bench import endpoints, machine
from bench.build_scale import corpus_for
from bench.load import run_wrk
from bench.query_latency import build_article_store, saved_query_path
from bench.workload import bound_queries
from parley.kg.querying import needs_union_view
from parley.kg.store import open_read_only

RESULTS = machine.REPO / "bench" / "results"
CONNECTIONS = (1, 32)
# Row cap far above any answer here, so that kg serve returns (and serialises) every row,
# as the peers do.
KG_SERVE_OPTIONS = ["--row-cap", "10000000"]


# A run of the saved-query mix lasts this many per-query runs.
MIX_RUN_LENGTH = 3

# rdflib-endpoint parses the whole dump into rdflib; at 100k one saved query ran for more
# than 10 minutes (its requests queue behind it), at 1M it would spend the run loading.
RDFLIB_UP_TO = 50_000
ALONE = {"rdflib-endpoint"}


# What a build is made from besides the corpus: a store older than any of these is stale
# (a store built before a listing rank existed answers its saved query with no rows).
_BUILD_INPUTS = ("kg", "ontology", "queries", "data")


def _stale(store: Path, corpus: Path) -> bool:
    if not store.exists():
        return True
    built = store.stat().st_mtime  # the build directory the symlink leads to
    inputs = [corpus / "GENERATED.json"] + [path for folder in _BUILD_INPUTS
                                            for path in (machine.REPO / folder).rglob("*")
                                            if path.is_file() and "__pycache__" not in path.parts]
    return any(path.stat().st_mtime > built for path in inputs if path.exists())


def endpoint_store(work: Path, size: int, seed: int) -> Path:
    """Where the store of the generated corpus of `size` triples is built."""
    return work / f"endpoint-store-{size}-seed{seed}"


def build_store(corpus: Path, store: Path) -> Path:
    """The store of `corpus`, built again when the code, ontology or queries changed since."""
    if _stale(store, corpus):
        subprocess.run([str(machine.VENV_BIN / "kg"), "build", "--corpus", str(corpus),
                        "--store", str(store)], check=True, capture_output=True)
    return store


def dump(store: Path, target: Path) -> Path:
    subprocess.run([str(machine.VENV_BIN / "kg"), "export", "--store", str(store), "--format",
                    "nquads", "--output", str(target)], check=True, capture_output=True)
    return target


def _load(endpoint, requests, connections, seconds, **options) -> dict:
    try:
        return run_wrk(endpoint.base_url, requests, connections=connections, seconds=seconds,
                       headers={"Accept": endpoints.JSON_RESULTS, **options.pop("headers", {})},
                       **options).as_dict()
    except (RuntimeError, subprocess.TimeoutExpired) as error:
        return {"error": str(error)}


def _median_run(runs: list[dict]) -> dict:
    """The run with the median rate, with every round's rate beside it."""
    measured = [run for run in runs if "error" not in run]
    if not measured:
        return runs[-1]
    ordered = sorted(measured, key=lambda run: run["requests_per_second"])
    return {**ordered[(len(ordered) - 1) // 2], "rounds": [run["requests_per_second"] for run in runs
                                                         if "error" not in run]}


def _start(name: str, launch, stack: ExitStack, queries) -> tuple[object | None, dict]:
    """Start a server and record each query's row count; (None, error) if it cannot start."""
    print(f"  starting {name} …", file=sys.stderr, flush=True)
    try:
        endpoint = stack.enter_context(launch())
    except Exception as error:  # a peer that cannot start is a result, not a crash
        return None, {"error": f"did not start: {error}"}
    result = {"rows": {}, "runs": {}}
    for bound in queries:
        try:
            result["rows"][bound.id] = endpoint.rows(bound.sparql_with_values, timeout=60)
        except Exception as error:
            result["rows"][bound.id] = f"error: {error}"
    return endpoint, result


def measure_graph(label: str, store: Path, queries, work: Path, seconds: float, rounds: int,
                  skip: dict[str, str]) -> dict:
    """Every server up at once; each cell is the median of `rounds` runs taken in turn.

    This machine has slow spells of tens of seconds (the same query in the same process
    runs up to 1.6× slower for a while); runs taken server after server would credit a
    spell to whichever server ran in it. So for each query the servers run one after the
    other, in an order reversed every round, and a cell keeps its median round.
    """
    nquads = dump(store, work / f"{label}.nq")
    # The peers get the same default graph as kg serve: the build's own (a set), or the
    # union view for a store without one.
    union = needs_union_view(open_read_only(store))
    # name: (launch, is kg serve, also measure what HTTP caching buys, also measure it as
    # served: the peers' very requests, answer cache on)
    servers = {
        # Forced both ways: the default holds stores of up to 3,000,000 quads in memory.
        "kg serve (on disk)": (lambda: endpoints.kg_serve(store, work,
                                                          KG_SERVE_OPTIONS + ["--on-disk"],
                                                          log_name="kg-serve-disk.log"),
                               True, True, False),
        "kg serve --in-memory": (lambda: endpoints.kg_serve(store, work,
                                                            KG_SERVE_OPTIONS + ["--in-memory"],
                                                            log_name="kg-serve-memory.log"),
                                 True, False, True),
        "oxigraph serve (on disk)": (lambda: endpoints.oxigraph_on_disk(nquads, work, union),
                                     False, False, False),
        "oxigraph serve (in memory)": (lambda: endpoints.oxigraph_in_memory(nquads, work, union),
                                       False, False, False),
        "rdflib-endpoint": (lambda: endpoints.rdflib_endpoint(nquads, work), False, False, False),
    }
    out = {"triples": sum(1 for _ in open(nquads, "rb")), "seconds_per_run": seconds,
           "rounds": rounds, "queries": {b.id: b.values for b in queries}, "servers": {}}
    chosen = {name: spec for name, spec in servers.items() if name not in skip}
    for name in servers.keys() - chosen.keys():
        out.setdefault("not_measured", {})[name] = skip[name]
    # rdflib-endpoint keeps computing the queries wrk gave up on, long after its turn:
    # beside the others it would slow them, so it runs alone, after them, one round.
    together = {name: spec for name, spec in chosen.items() if name not in ALONE}
    _measure_together(together, queries, seconds, rounds, out)
    for name, spec in chosen.items():
        if name in ALONE:
            _measure_together({name: spec}, queries, seconds, 1, out)
    return out


def _measure_together(servers: dict, queries, seconds: float, rounds: int, out: dict) -> None:
    with ExitStack() as stack:
        running = []  # (name, endpoint, is kg serve, caching, as served)
        for name, (launch, kg, caching, served) in servers.items():
            endpoint, result = _start(name, launch, stack, queries)
            out["servers"][name] = result
            if endpoint is not None:
                running.append((name, endpoint, kg, caching, served))
        for connections in CONNECTIONS:
            key = f"c{connections}"
            print(f"  {', '.join(r[0] for r in running)}: {connections} connection(s) …",
                  file=sys.stderr, flush=True)
            for bound in queries:
                taken: dict[tuple[str, str], list[dict]] = {}
                _take_rounds(running, [bound.sparql_with_values], connections, seconds,
                             rounds, taken)
                for (name, mode), runs in taken.items():
                    out["servers"][name]["runs"].setdefault(bound.id, {}).setdefault(
                        mode, {})[key] = _median_run(runs)
                # What caching buys (the answers served to clients of the saved-query API,
                # warmed for each build), once per connection count.
                for name, endpoint, _, caching, _ in running:
                    if caching:
                        runs = out["servers"][name]["runs"][bound.id]
                        for mode, run in _caching_runs(endpoint, bound, connections,
                                                       seconds).items():
                            runs.setdefault(mode, {})[key] = run
            # The saved queries as one mix: each wrk thread sends them in turn (the way
            # BSBM reports query mixes), so a cheap query weighs by its share of the time.
            if not queries:
                continue
            taken = {}
            _take_rounds(running, [bound.sparql_with_values for bound in queries], connections,
                         seconds * MIX_RUN_LENGTH, rounds, taken)
            for (name, mode), runs in taken.items():
                out["servers"][name].setdefault("mix", {}).setdefault(mode, {})[key] = \
                    _median_run(runs)
        for name, endpoint, *_ in running:
            if name.startswith("oxigraph serve (in memory)"):
                ask = endpoint.query_request("ASK {}")
                out["servers"][name]["static"] = {f"c{c}": _load(endpoint, [ask], c, seconds)
                                                  for c in CONNECTIONS}


def _take_rounds(running, texts: list[str], connections: int, seconds: float, rounds: int,
                 taken: dict[tuple[str, str], list[dict]]) -> None:
    """`rounds` wrk runs of `texts` on every server, in turn (the order reversed each round)."""
    for round_ in range(rounds):
        for name, endpoint, kg, _, served in (running if round_ % 2 == 0 else running[::-1]):
            requests = [endpoint.query_request(text) for text in texts]
            taken.setdefault((name, "sparql"), []).append(
                _load(endpoint, requests, connections, seconds, bust=kg))
            if served:
                taken.setdefault((name, "sparql_served"), []).append(
                    _load(endpoint, requests, connections, seconds))


def _caching_runs(endpoint, bound, connections: int, seconds: float) -> dict:
    """The saved-query API with the answer cache warm, and revalidated with If-None-Match."""
    api = f"GET {saved_query_path(bound)}"
    runs = {"api_cached": _load(endpoint, [api], connections, seconds)}
    try:
        status, headers, _ = endpoint.fetch(api)
    except OSError as error:  # a timeout is a result of this query
        runs["api_304"] = {"error": f"no ETag: {error}"}
        return runs
    etag = headers.get("ETag")
    if status == 200 and etag:
        runs["api_304"] = _load(endpoint, [api], connections, seconds,
                                headers={"If-None-Match": etag})
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=1, help="wrk duration per run")
    parser.add_argument("--rounds", type=int, default=3,
                        help="runs per cell, servers taken in turn; a cell keeps the median")
    parser.add_argument("--large-seconds", type=float, default=2,
                        help="wrk duration per run on the generated graphs (slower queries)")
    parser.add_argument("--large", type=int, nargs="*", default=[100_000, 1_000_000],
                        help="triples of each generated graph (none, or 0: article graph only)")
    parser.add_argument("--rdflib-up-to", type=int, default=RDFLIB_UP_TO,
                        help="measure rdflib-endpoint on graphs of at most this many triples")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip", action="append", default=[], help="server name to skip")
    parser.add_argument("--skip-article", action="store_true")
    parser.add_argument("--keep-others", action="store_true",
                        help="keep the graphs not measured now from --out")
    parser.add_argument("--work", type=Path, default=machine.WORK)
    parser.add_argument("--out", type=Path, default=RESULTS / "endpoint_throughput.json")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    result = {"machine_before": machine.describe(), "seconds_per_run": args.seconds,
              "rounds": args.rounds,
              "connections": CONNECTIONS, "kg_serve_options": KG_SERVE_OPTIONS,
              "mix_run_length": MIX_RUN_LENGTH, "graphs": {}}
    if args.keep_others and args.out.is_file():
        # Measuring only some graphs keeps the others of the last run.
        result["graphs"] = json.loads(args.out.read_text())["graphs"]
    # (label, store, triples of a generated corpus; None for the article, whose queries
    # take the examples of their headers)
    graphs = [] if args.skip_article else [("article", build_article_store(args.work), None)]
    for size in (size for size in args.large if size):
        corpus, manifest = corpus_for(size, args.seed, args.work)
        store = build_store(corpus, endpoint_store(args.work, size, args.seed))
        graphs.append((f"generated-{size // 1000}k", store, size))
    for label, store, size in graphs:
        print(f"{label}:", file=sys.stderr, flush=True)
        queries = bound_queries(open_read_only(store), use_examples=size is None)
        skip = dict.fromkeys(args.skip, "skipped with --skip")
        if size is not None and size > args.rdflib_up_to:
            skip["rdflib-endpoint"] = (f"not run above {args.rdflib_up_to:,} triples "
                                       "(--rdflib-up-to): it would spend the run loading")
        seconds = args.seconds if size is None else max(args.seconds, args.large_seconds)
        result["graphs"][label] = measure_graph(label, store, queries, args.work, seconds,
                                                args.rounds, skip)
        machine.save(args.out, result)
    result["machine_after"] = machine.describe()
    machine.save(args.out, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
