"""Soak test: N concurrent clients against `kg serve` for S seconds; any error fails the run.

    python bench/soak.py                          # starts its own server on a generated store
    python bench/soak.py --url http://127.0.0.1:5000/sparql --clients 50 --seconds 20
    python bench/soak.py --runaway                # one client sends runaway queries meanwhile

Prints requests, errors, throughput and latency percentiles; exits 1 on any error. With
--runaway, it also reports how long each runaway query took to be stopped (503), which
must stay within the server's timeout plus one second.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from contextlib import nullcontext
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from serving import make_store, running_server  # noqa: E402

LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
RUNAWAY = "SELECT * { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l } ORDER BY ?a ?l"


def client(url: str, number: int, actors: int, stop: float, latencies: list, errors: list) -> None:
    session = requests.Session()
    while time.monotonic() < stop:
        actor = f"https://w3id.org/parley/id/actor-{(number * 7919 + len(latencies)) % actors:03d}"
        query = f"SELECT ?label {{ <{actor}> <{LABEL}> ?label }}"
        started = time.monotonic()
        try:
            response = session.get(url, params={"query": query}, timeout=60)
            if response.status_code != 200 or not response.json()["results"]["bindings"]:
                errors.append(f"{response.status_code}: {response.text[:120]}")
        except requests.RequestException as error:
            errors.append(repr(error))
        latencies.append(time.monotonic() - started)


def runaway_client(url: str, stop: float, stopped_after: list, errors: list) -> None:
    while time.monotonic() < stop:
        started = time.monotonic()
        response = requests.post(url, data=RUNAWAY, headers={"Content-Type": "application/sparql-query"},
                                 timeout=120)
        if response.status_code != 503:
            errors.append(f"runaway answered {response.status_code}")
        stopped_after.append(time.monotonic() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="endpoint to soak (default: start a server on a generated store)")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--actors", type=int, default=1000, help="actors in the generated store")
    parser.add_argument("--runaway", action="store_true")
    parser.add_argument("--timeout", default="5", help="query timeout of the started server")
    parser.add_argument("serve_options", nargs="*", help="extra `kg serve` options for the started server")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        if args.url:
            context = nullcontext(None)
        else:
            store = make_store(Path(tmp) / "store", actors=args.actors)
            context = running_server(store, Path(tmp), "--workers", "2", "--timeout", args.timeout,
                                     *args.serve_options)
        with context as server:
            url = args.url or server.url
            stop = time.monotonic() + args.seconds
            latencies: list[list[float]] = [[] for _ in range(args.clients)]
            errors: list[str] = []
            stopped_after: list[float] = []
            threads = [threading.Thread(target=client, args=(url, n, args.actors, stop, latencies[n], errors))
                       for n in range(args.clients)]
            if args.runaway:
                threads.append(threading.Thread(target=runaway_client, args=(url, stop, stopped_after, errors)))
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    every = sorted(latency for per_client in latencies for latency in per_client)
    print(f"{len(every)} requests in {args.seconds:g} s from {args.clients} clients: "
          f"{len(every) / args.seconds:.0f} req/s, {len(errors)} errors")
    if every:
        cut = statistics.quantiles(every, n=100)
        print(f"latency p50 {cut[49] * 1000:.1f} ms, p95 {cut[94] * 1000:.1f} ms, p99 {cut[98] * 1000:.1f} ms, "
              f"max {every[-1] * 1000:.1f} ms")
    if stopped_after:
        print("runaway queries stopped after: " + ", ".join(f"{t:.2f} s" for t in stopped_after))
    for error in errors[:10]:
        print("error:", error)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
