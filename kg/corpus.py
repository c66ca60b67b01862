"""The corpus on disk: ontology, shapes and one text + metadata + curated file per source."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pyoxigraph import NamedNode

from .errors import DataError, UsageError, ValidationError
from .namespaces import ONTOLOGY_GRAPH, SHAPES_GRAPH, source_graph

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Source:
    """One source document: its text, its metadata and the triples curated from it."""

    id: str
    text: Path
    metadata: Path
    curated: Path

    @property
    def graph(self) -> NamedNode:
        return source_graph(self.id)

    def read_text(self) -> str:
        # newline="" keeps the text byte for byte: offsets count code points of the file as is.
        with open(self.text, encoding="utf-8", newline="") as handle:
            return handle.read()


@dataclass(frozen=True)
class RdfFile:
    """A Turtle file and the named graph it is loaded into."""

    path: Path
    graph: NamedNode


@dataclass(frozen=True)
class Corpus:
    ontology: Path
    shapes: Path
    sources: tuple[Source, ...]

    def rdf_files(self) -> list[RdfFile]:
        files = [RdfFile(self.ontology, ONTOLOGY_GRAPH), RdfFile(self.shapes, SHAPES_GRAPH)]
        for source in self.sources:
            files += [RdfFile(source.metadata, source.graph), RdfFile(source.curated, source.graph)]
        return files

    def source_for_graph(self, graph: NamedNode) -> Source | None:
        return next((s for s in self.sources if s.graph == graph), None)

    def source_with_text_file(self, name: str) -> Source | None:
        return next((s for s in self.sources if s.text.name == name), None)


def discover(corpus_dir: Path, ontology_dir: Path) -> Corpus:
    """Find every source of the corpus; all layout problems are reported together."""
    for label, folder in (("corpus", corpus_dir), ("ontology", ontology_dir)):
        if not folder.is_dir():
            raise UsageError(f"{label} directory {folder} does not exist")
    problems: list[DataError] = []
    ontology, shapes = ontology_dir / "parley.ttl", ontology_dir / "shapes.ttl"
    for path in (ontology, shapes):
        if not path.is_file():
            problems.append(DataError(f"missing {path.name} in the ontology directory",
                                      path=ontology_dir))
    sources_dir, curated_dir = corpus_dir / "sources", corpus_dir / "curated"
    texts = {p.stem: p for p in sorted(sources_dir.glob("*.txt"))}
    curated = {p.stem: p for p in sorted(curated_dir.glob("*.ttl"))}
    sources = []
    for source_id, text in texts.items():
        metadata, curation = sources_dir / f"{source_id}.ttl", curated_dir / f"{source_id}.ttl"
        found = True
        if not SLUG.match(source_id):
            problems.append(DataError(
                f"source id {source_id!r} is not a lowercase hyphenated slug", path=text,
                hint="rename the .txt, .ttl and curated .ttl files, e.g. hostage-talks-2024-01"))
            found = False
        for needed, what in ((metadata, "metadata"), (curation, "curated triples")):
            if not needed.is_file():
                problems.append(DataError(f"source {source_id} has no {what} file {needed.name}",
                                          path=needed.parent,
                                          hint=f"every sources/<id>.txt needs sources/<id>.ttl "
                                               f"and curated/<id>.ttl"))
                found = False
        if found:
            sources.append(Source(source_id, text, metadata, curation))
    for source_id, path in curated.items():
        if source_id not in texts:
            problems.append(DataError(f"curated file has no source text sources/{source_id}.txt",
                                      path=path))
    if not texts and not problems:
        problems.append(DataError("the corpus has no source texts (sources/*.txt)",
                                  path=sources_dir))
    if problems:
        raise ValidationError("corpus", problems)
    return Corpus(ontology, shapes, tuple(sources))
