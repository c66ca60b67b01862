"""The baseline of the build benchmark: the corpus's Turtle files bulk-loaded, nothing else.

    python -m bench.bulk_load --corpus DIR --store DIR [--per-file]

loads the ontology, the shapes and every source's metadata and curated file into their
named graphs of a new on-disk pyoxigraph store: one `Store.bulk_extend` over a stream of
parsed quads (the fastest plain load), or with `--per-file` one `Store.bulk_load` call per
file, as the first version of the build's parse phase did. Prints one JSON line: quads and seconds.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from pyoxigraph import NamedNode, Quad, RdfFormat, Store, parse

GRAPH = "https://w3id.org/parley/graph/"


def corpus_files(corpus: Path, ontology: Path) -> list[tuple[Path, NamedNode]]:
    """Each Turtle file of the corpus with the named graph docs/design.md puts it in."""
    files = [(ontology / "parley.ttl", NamedNode(GRAPH + "ontology")),
             (ontology / "shapes.ttl", NamedNode(GRAPH + "shapes"))]
    for text in sorted((corpus / "sources").glob("*.txt")):
        graph = NamedNode(f"{GRAPH}source/{text.stem}")
        files += [(corpus / "sources" / f"{text.stem}.ttl", graph),
                  (corpus / "curated" / f"{text.stem}.ttl", graph)]
    return files


def load(store: Store, files: list[tuple[Path, NamedNode]], per_file: bool) -> None:
    if per_file:
        for path, graph in files:
            store.bulk_load(path=str(path), format=RdfFormat.TURTLE, to_graph=graph)
        return

    def quads():
        for path, graph in files:
            for quad in parse(path=str(path), format=RdfFormat.TURTLE):
                yield Quad(quad.subject, quad.predicate, quad.object, graph)

    store.bulk_extend(quads())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--ontology", type=Path,
                        default=Path(__file__).resolve().parent.parent / "ontology")
    parser.add_argument("--store", type=Path, required=True, help="a new directory")
    parser.add_argument("--per-file", action="store_true")
    args = parser.parse_args(argv)
    files = corpus_files(args.corpus, args.ontology)
    began = time.perf_counter()
    store = Store(str(args.store))
    load(store, files, args.per_file)
    store.flush()
    seconds = time.perf_counter() - began
    print(json.dumps({"files": len(files), "quads": len(store), "seconds": seconds}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
