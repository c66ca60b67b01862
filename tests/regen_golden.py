"""Rewrite tests/golden/ from the saved queries run on the article graph; review with `git diff tests/golden`.

    .venv/bin/python tests/regen_golden.py               # builds the article store in a temp dir
    .venv/bin/python tests/regen_golden.py --store DIR   # or reads an existing build

Each saved query has `<id>.tsv` (its parameters at their defaults) and, when a parameter's
example differs from its default, `<id>.example.tsv` (every parameter at its example).
The files are SPARQL TSV results, one row per line, in the query's ORDER BY order.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from pyoxigraph import QueryResultsFormat, Store

from parley.kg.catalog import Catalog, SavedQuery, load_catalog
from parley.kg.querying import run_saved_query

GOLDEN = Path(__file__).parent / "golden"

# Values a build stamps with its own clock; the golden files hold this marker instead.
VOLATILE = {"wikidata-links": ("linkedAt",)}
VOLATILE_MARK = "<varies with each build>"


def golden_cases(catalog: Catalog) -> list[tuple[SavedQuery, str, dict[str, str]]]:
    """(query, case name, parameters) for every golden file the catalog calls for."""
    cases = []
    for query in catalog:
        cases.append((query, "default", {}))
        examples = {p.name: p.example for p in query.parameters
                    if p.example is not None and p.example != p.default}
        if examples:
            cases.append((query, "example", examples))
    return cases


def golden_path(query: SavedQuery, case: str) -> Path:
    return GOLDEN / (f"{query.id}.tsv" if case == "default" else f"{query.id}.{case}.tsv")


def golden_text(store: Store, query: SavedQuery, params: dict[str, str]) -> str:
    text = run_saved_query(store, query, params).serialize(format=QueryResultsFormat.TSV).decode()
    volatile = VOLATILE.get(query.id, ())
    if not volatile:
        return text
    lines = text.splitlines()
    header = lines[0].split("\t")
    columns = [header.index(f"?{name}") for name in volatile]
    masked = [lines[0]]
    for line in lines[1:]:
        cells = line.split("\t")
        for column in columns:
            if cells[column]:
                cells[column] = VOLATILE_MARK
        masked.append("\t".join(cells))
    return "\n".join(masked) + "\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, help="an existing article store (default: build one)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        store_dir = args.store or _build(Path(scratch) / "store")
        from parley.kg.store import open_read_only

        store = open_read_only(store_dir)
        catalog = load_catalog()
        GOLDEN.mkdir(exist_ok=True)
        wanted = set()
        for query, case, params in golden_cases(catalog):
            path = golden_path(query, case)
            wanted.add(path)
            path.write_text(golden_text(store, query, params), encoding="utf-8")
            print(f"wrote {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
        for stale in set(GOLDEN.glob("*.tsv")) - wanted:
            stale.unlink()
            print(f"removed {stale}")
    return 0


def _build(store: Path) -> Path:
    from parley.kg.build import build
    from parley.kg.settings import BuildSettings, java_path, packaged_corpus, packaged_ontology

    build(BuildSettings(store=store, corpus=packaged_corpus(), ontology=packaged_ontology(),
                        java=java_path()))
    return store


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
