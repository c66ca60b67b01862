"""The generated corpus keeps the curated format's rules: run with `pytest bench/`."""
from __future__ import annotations

import filecmp
from pathlib import Path

import pytest
from pyoxigraph import NamedNode, RdfFormat, Store

from bench.generate_corpus import generate

PARLEY = "https://w3id.org/parley/ontology#"
OA = "http://www.w3.org/ns/oa#"
RDF_TYPE = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
BOOKKEEPING = {PARLEY + c for c in ("Evidence", "Curation", "SourceDocument")}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("corpus")
    generate(out, 5_000, seed=3, wikidata=None)
    return out


def _sources(corpus: Path) -> list[str]:
    ids = sorted(p.stem for p in (corpus / "sources").glob("*.txt"))
    assert len(ids) >= 10, "5,000 triples are at least ten sources"
    return ids


def _graph(corpus: Path, source_id: str) -> Store:
    store = Store()
    for path in (corpus / "sources" / f"{source_id}.ttl", corpus / "curated" / f"{source_id}.ttl"):
        store.load(path=str(path), format=RdfFormat.TURTLE)
    return store


def test_same_seed_gives_identical_files(corpus, tmp_path):
    again = tmp_path / "again"
    generate(again, 5_000, seed=3, wikidata=None)
    for folder in ("sources", "curated"):
        names = sorted(p.name for p in (corpus / folder).iterdir())
        assert names == sorted(p.name for p in (again / folder).iterdir())
        _, mismatch, errors = filecmp.cmpfiles(corpus / folder, again / folder, names,
                                               shallow=False)
        assert mismatch == [] and errors == []


def test_every_span_quotes_its_text_at_its_code_point_offsets(corpus):
    spans = 0
    for source_id in _sources(corpus):
        with open(corpus / "sources" / f"{source_id}.txt", encoding="utf-8", newline="") as f:
            text = f.read()
        store = _graph(corpus, source_id)
        for quad in store.quads_for_pattern(None, NamedNode(OA + "exact"), None):
            start = int(next(store.quads_for_pattern(quad.subject, NamedNode(OA + "start"),
                                                     None)).object.value)
            end = int(next(store.quads_for_pattern(quad.subject, NamedNode(OA + "end"),
                                                   None)).object.value)
            exact = quad.object.value
            assert text[start:end] == exact
            assert text.count(exact) == 1
            spans += 1
        characters = next(store.quads_for_pattern(None, NamedNode(PARLEY + "characters"), None))
        assert int(characters.object.value) == len(text)
    assert spans > 0


def test_the_texts_have_characters_beyond_ascii(corpus):
    # Otherwise byte offsets would equal code-point offsets and the check above proves less.
    texts = [(corpus / "sources" / f"{s}.txt").read_text(encoding="utf-8") for s in _sources(corpus)]
    assert all(len(t.encode("utf-8")) > len(t) for t in texts)


def test_every_curated_node_has_evidence(corpus):
    for source_id in _sources(corpus):
        store = _graph(corpus, source_id)
        typed = {q.subject for q in store.quads_for_pattern(None, RDF_TYPE, None)
                 if q.object.value.startswith(PARLEY) and q.object.value not in BOOKKEEPING}
        assert typed
        for subject in typed:
            assert next(store.quads_for_pattern(subject, NamedNode(PARLEY + "evidence"), None),
                        None) is not None, f"{subject} has no evidence"
