"""How `kg build` scales: wall time, peak memory and per-phase times beside a plain bulk load.

    .venv/bin/python -m bench.build_scale --sizes 10000 100000 1000000 --timeout 1200

For each size it generates a corpus (bench/generate_corpus.py, cached in --work), bulk-loads
its Turtle files into a fresh on-disk store (bench/bulk_load.py) and runs
`kg build --corpus DIR --store DIR` on a pseudo-terminal, so the build reports each phase.
Every run is a separate process measured the same way: wall time, and the peak resident
memory of its whole process tree (HermiT's JVM included), sampled every 0.1 s. A run that
exceeds --timeout is killed and recorded as not finished, with the phase it was in.
Results go to bench/results/build_scale.json; bench/report.py turns them into tables.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from pathlib import Path

from bench import machine, processes
from bench.generate_corpus import generate

RESULTS = machine.REPO / "bench" / "results"
_FINISHED = re.compile(r"\[(\d+)/(\d+)\] (\S+) … ([0-9.]+) s(?:  \(([^)\n]*)\))?")
_STARTED = re.compile(r"\[(\d+)/(\d+)\] (\S+) …")
_COMMIT = re.compile(r"^ +([0-9.]+) s *$", re.M)
_BUILT = re.compile(r"built .*?: (\d+) triples in (\d+) graphs")


def corpus_for(size: int, seed: int, work: Path) -> tuple[Path, dict]:
    folder = work / f"corpus-{size}-seed{seed}"
    manifest = folder / "GENERATED.json"
    if not manifest.is_file():
        shutil.rmtree(folder, ignore_errors=True)
        generate(folder, size, seed, machine.REPO / "data" / "wikidata")
    return folder, json.loads(manifest.read_text())


def phases_of(run: processes.Measured) -> tuple[list[dict], dict | None]:
    """The finished phases with their seconds and counts, and the phase still running."""
    output = run.output
    finished = list(_FINISHED.finditer(output))
    phases = [{"phase": m[3], "seconds": float(m[4]), "counts": m[5] or ""} for m in finished]
    # Older builds printed the commit's time on a line of its own, without a phase name.
    commit = _COMMIT.search(output[finished[-1].end():]) if finished else None
    if commit and all(p["phase"] != "commit" for p in phases):
        phases.append({"phase": "commit", "seconds": float(commit[1]), "counts": ""})
    running = None
    started = list(_STARTED.finditer(output))
    if len(started) > len(finished) and not run.ok:
        last = started[-1]
        running = {"phase": last[3], "index": int(last[1]), "of": int(last[2]),
                   "seconds_so_far": run.seconds - run.time_at(last.start())}
    return phases, running


def measure_build(corpus: Path, store: Path, timeout: float) -> dict:
    run = processes.run([str(machine.VENV_BIN / "kg"), "build", "--corpus", str(corpus),
                         "--store", str(store)], timeout=timeout, terminal=True)
    phases, running = phases_of(run)
    built = _BUILT.search(run.output)
    return {"ok": run.ok, "timed_out": run.timed_out, "returncode": run.returncode,
            "seconds": run.seconds, "peak_rss_mib": run.peak_rss / 2**20, "phases": phases,
            "running_at_timeout": running,
            "store_triples": int(built[1]) if built else None,
            "output_tail": "" if run.ok else run.output[-3000:]}


def measure_bulk_load(corpus: Path, store: Path, timeout: float, per_file: bool) -> dict:
    command = [sys.executable, "-m", "bench.bulk_load", "--corpus", str(corpus),
               "--store", str(store)] + (["--per-file"] if per_file else [])
    run = processes.run(command, timeout=timeout, cwd=str(machine.REPO))
    result = {"ok": run.ok, "timed_out": run.timed_out, "seconds": run.seconds,
              "peak_rss_mib": run.peak_rss / 2**20}
    if run.ok:
        result.update(json.loads(run.output.strip().splitlines()[-1]))
    else:
        result["output_tail"] = run.output[-2000:]
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=1200, help="seconds per run")
    parser.add_argument("--per-file-up-to", type=int, default=100_000,
                        help="also time one bulk_load call per file for sizes up to this "
                             "many triples")
    parser.add_argument("--work", type=Path, default=machine.WORK)
    parser.add_argument("--out", type=Path, default=RESULTS / "build_scale.json")
    parser.add_argument("--keep-others", action="store_true",
                        help="keep the results of sizes not measured now from --out")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    results = {"machine_before": machine.describe(), "timeout_seconds": args.timeout,
               "seed": args.seed, "sizes": []}
    if args.keep_others and args.out.is_file():
        # Re-measuring some sizes keeps the others of the last run (same seed and limit).
        previous = json.loads(args.out.read_text())
        if previous.get("seed") == args.seed and previous.get("timeout_seconds") == args.timeout:
            results["sizes"] = [e for e in previous["sizes"] if e["requested"] not in args.sizes]
    for size in args.sizes:
        corpus, manifest = corpus_for(size, args.seed, args.work)
        entry = {"requested": size, "corpus": manifest, "load_before": machine.load()}
        stores = args.work / f"stores-{size}"
        shutil.rmtree(stores, ignore_errors=True)
        stores.mkdir()
        print(f"[{size}] bulk load …", file=sys.stderr, flush=True)
        entry["bulk_load"] = measure_bulk_load(corpus, stores / "bulk", args.timeout, False)
        if size <= args.per_file_up_to:
            print(f"[{size}] bulk load, one call per file …", file=sys.stderr, flush=True)
            entry["bulk_load_per_file"] = measure_bulk_load(corpus, stores / "per-file",
                                                            args.timeout, True)
        print(f"[{size}] kg build …", file=sys.stderr, flush=True)
        entry["build"] = measure_build(corpus, stores / "store", args.timeout)
        entry["load_after"] = machine.load()
        print(f"[{size}] {json.dumps(entry['build']['phases'])} "
              f"{entry['build']['seconds']:.1f} s ok={entry['build']['ok']}",
              file=sys.stderr, flush=True)
        results["sizes"].append(entry)
        results["sizes"].sort(key=lambda e: e["requested"])
        shutil.rmtree(stores, ignore_errors=True)
        machine.save(args.out, results)
    results["machine_after"] = machine.describe()
    machine.save(args.out, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
