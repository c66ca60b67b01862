"""Saved-query latency on the article graph: through the library and through `kg serve`.

    .venv/bin/python -m bench.query_latency --runs 200
    .venv/bin/python -m bench.query_latency --store DIR --in-memory --runs 10   # a generated graph

Builds the packaged article corpus with `kg build` into a fresh store, then times every
saved query (parameters bound to the examples of its header): through the library
(`parley.kg.querying.run_saved_query` on the read-only on-disk store, answer serialised as
SPARQL JSON) and over HTTP on one keep-alive connection to `kg serve` (the saved-query API,
whose answers the server caches, and the SPARQL protocol with the values as a VALUES
block and a new comment per request, so that every request is evaluated). Sequential requests, so these
are latencies, not throughput (bench/endpoint_throughput.py does that).
Results go to bench/results/query_latency.json.

With `--store DIR` (a store built by `kg build --corpus` from bench/generate_corpus.py) it
times the library path on that store only, with each IRI parameter bound to the busiest
node of the graph (`bound_queries(use_examples=False)`), on disk (`--on-disk`, the
default) or in an in-memory copy (`--in-memory`); results go to
bench/results/query_latency-<store name>-<disk|memory>.json unless `--out` says otherwise.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import subprocess
import sys
import urllib.parse
from pathlib import Path

from bench import endpoints, machine, stats
from bench.workload import bound_queries
from pyoxigraph import Store

from parley.kg.querying import run_saved_query, serialize_results
from parley.kg.store import open_read_only

RESULTS = machine.REPO / "bench" / "results"
TARGET_MS = 50


def build_article_store(work: Path) -> Path:
    store = work / "article-store"
    shutil.rmtree(store, ignore_errors=True)
    shutil.rmtree(Path(f"{store}.builds"), ignore_errors=True)
    subprocess.run([str(machine.VENV_BIN / "kg"), "build", "--store", str(store)], check=True,
                   capture_output=True)
    return store


def in_memory_copy(store: Store) -> Store:
    copy = Store()
    copy.bulk_extend(store.quads_for_pattern(None, None, None, None))
    return copy


def library_latencies(store_path: Path, runs: int, in_memory: bool = False,
                      use_examples: bool = True) -> dict:
    store = open_read_only(store_path)
    if in_memory:
        store = in_memory_copy(store)
    results = {}
    for bound in bound_queries(store, use_examples=use_examples):
        def call(bound=bound):
            return serialize_results(run_saved_query(store, bound.query, bound.values), "json")
        rows = len(json.loads(call())["results"]["bindings"])
        results[bound.id] = {"rows": rows, "values": bound.values,
                             **stats.time_calls(call, runs)}
    return results


def http_latencies(endpoint: endpoints.Endpoint, runs: int, api_path) -> dict:
    connection = http.client.HTTPConnection("127.0.0.1", int(endpoint.base_url.rsplit(":", 1)[1]),
                                            timeout=120)
    headers = {"Accept": endpoints.JSON_RESULTS}

    def get(path: str) -> bytes:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"GET {path}: HTTP {response.status}: {body[:300]!r}")
        return body

    results = {}
    counter = iter(range(10**9))
    for bound in bound_queries():
        sparql = f"{endpoint.query_path}?{urllib.parse.urlencode({'query': bound.sparql_with_values})}"
        surfaces = {
            # the saved-query API as clients call it: from the second call on, the answer
            # comes from the server's cache (same build, same query, same media type)
            "api": lambda path=api_path(bound): path,
            # the same query by the SPARQL protocol, a new comment each time: evaluated
            # every time, what a first request or a changed query costs
            "sparql_uncached": lambda: sparql + urllib.parse.quote(f"\n#{next(counter)}"),
        }
        entry = {}
        for surface, path in surfaces.items():
            rows = len(json.loads(get(path()))["results"]["bindings"])
            entry[surface] = {"rows": rows, **stats.time_calls(lambda p=path: get(p()), runs)}
        results[bound.id] = entry
    connection.close()
    return results


def saved_query_path(bound) -> str:
    """The saved-query API of `kg serve`: GET /api/queries/<id>?<parameter>=<value>."""
    query = urllib.parse.urlencode(bound.values)
    return f"/api/queries/{bound.id}" + (f"?{query}" if query else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--work", type=Path, default=Path("/tmp/parley-bench"))
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--store", type=Path, default=None,
                        help="time this (generated) store instead of the article graph")
    placement = parser.add_mutually_exclusive_group()
    placement.add_argument("--in-memory", dest="in_memory", action="store_true")
    placement.add_argument("--on-disk", dest="in_memory", action="store_false")
    args = parser.parse_args(argv)
    if args.store is not None:
        return _measure_store(args)
    args.out = args.out or RESULTS / "query_latency.json"
    args.work.mkdir(parents=True, exist_ok=True)
    result = {"machine_before": machine.describe(), "runs": args.runs, "target_ms": TARGET_MS}
    store = build_article_store(args.work)
    result["library"] = library_latencies(store, args.runs)
    # For reference: the same through an in-memory copy (what `kg serve --in-memory` does).
    result["library_in_memory"] = library_latencies(store, args.runs, in_memory=True)
    if not args.skip_http:
        with endpoints.kg_serve(store, args.work) as endpoint:
            result["http"] = http_latencies(endpoint, args.runs, saved_query_path)
    result["machine_after"] = machine.describe()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


def _measure_store(args) -> int:
    """The library path on one given store: the numbers for a generated graph."""
    store = Path(os.path.realpath(args.store))  # a build link: name the build measured
    where = "memory" if args.in_memory else "disk"
    out = args.out or RESULTS / f"query_latency-{args.store.name}-{where}.json"
    result = {"machine_before": machine.describe(), "runs": args.runs, "target_ms": TARGET_MS,
              "store": str(store), "placement": where,
              "library": library_latencies(store, args.runs, in_memory=args.in_memory,
                                           use_examples=False)}
    result["machine_after"] = machine.describe()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
