"""Every benchmark in one run, then docs/benchmarks.md rewritten from the results.

    .venv/bin/python -m bench.run_all [--note "…"] [--quick]

Runs, one after the other so that they do not compete for the 2 cores: the build at
scale (bench/build_scale.py), the saved-query latencies (bench/query_latency.py), the
endpoint throughput (bench/endpoint_throughput.py), then the saved-query latencies on the
generated stores that step built, each writing bench/results/*.json, then bench/report.py.
`--quick` is a smoke run (small sizes, 1 s per load run) that checks the harness, not the
numbers.
"""
from __future__ import annotations

import argparse
import subprocess
import sys

from bench import machine
from bench.endpoint_throughput import endpoint_store


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--note", help="a remark for the top of docs/benchmarks.md")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--timeout", type=float, default=1200,
                        help="seconds per build run (default 20 min)")
    args = parser.parse_args(argv)
    python = [sys.executable, "-m"]
    sizes = ["10000", "30000"] if args.quick else ["10000", "100000", "1000000"]
    steps = [
        ["bench.build_scale", "--sizes", *sizes, "--timeout", str(args.timeout)],
        ["bench.query_latency", "--runs", "20" if args.quick else "200"],
        ["bench.endpoint_throughput", "--rounds", "1" if args.quick else "3",
         "--large", *([sizes[-2]] if args.quick else ["100000", "1000000"])],
    ]
    # The saved queries through the library on the generated stores the endpoint step built.
    steps += [["bench.query_latency", "--store", str(endpoint_store(machine.WORK, int(size), seed=1)),
               "--in-memory", "--runs", "3" if args.quick else "10"]
              for size in ([sizes[-2]] if args.quick else ["100000", "1000000"])]
    for step in steps:
        print(f"== {' '.join(step)} (load {machine.load()})", file=sys.stderr, flush=True)
        subprocess.run(python + step, check=True, cwd=machine.REPO)
    report = ["bench.report"] + (["--note", args.note] if args.note else [])
    subprocess.run(python + report, check=True, cwd=machine.REPO)
    return 0


if __name__ == "__main__":
    sys.exit(main())
