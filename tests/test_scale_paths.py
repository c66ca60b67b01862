"""The paths for large corpora (compiled SHACL, rule reasoning) agree with the references."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from pyoxigraph import Store

from parley.kg import corpus as corpus_module
from parley.kg import shapes
from parley.kg.errors import ValidationError
from parley.kg.namespaces import INFERRED_GRAPH
from parley.kg.parsing import load_files
from parley.kg.reasoning import reason
from parley.kg.settings import java_path, packaged_ontology

ARTICLE = "hostage-talks-2024-01.ttl"

# Each breaks one constraint family of ontology/shapes.ttl in the article's curated file.
BREAKAGES = {
    "no holder": (r"\n    parley:holder pid:israel ;", ""),
    "two holders": (r"parley:holder pid:hamas ;", "parley:holder pid:hamas , pid:israel ;"),
    "prominence as a string": (r"parley:prominence 1 ;", 'parley:prominence "one" ;'),
    "prominence below its minimum": (r"parley:prominence 1 ;", "parley:prominence 0 ;"),
    "ill-typed headcount": (r"parley:headcount 2 ;", 'parley:headcount "two"^^xsd:integer ;'),
    "unit not in the list": (r"parley:durationFrom time:unitWeek ;",
                             "parley:durationFrom time:unitDay ;"),
    "month out of pattern": (r'parley:statedOn "2024-01-21"\^\^xsd:date ;',
                             'parley:statedOn "2024-21"^^xsd:gYearMonth ;'),
    "date as plain text": (r'parley:statedOn "2024-01-21"\^\^xsd:date ;',
                           'parley:statedOn "Sunday" ;'),
    "label without language": (r'(pid:william-j-burns a parley:Person ;\s*rdfs:label "[^"]*")@en',
                               r"\1"),
    "label in German": (r'(pid:william-j-burns a parley:Person ;\s*rdfs:label "[^"]*")@en',
                        r"\1@de"),
    "two English labels": (r'(pid:william-j-burns a parley:Person ;\s*rdfs:label "[^"]*"@en)',
                           r'\1, "Bill Burns"@en'),
    "stance outside the scheme": (r"parley:stance parley:\w+", "parley:stance pid:israel"),
    "start after end": (r"oa:start (\d+) ; oa:end (\d+)", r"oa:start \2 ; oa:end \1"),
    "quote with a language": (r'(oa:exact "[^"]*")', r"\1@en"),
    "holder is a literal": (r"parley:holder pid:israel ;", 'parley:holder "Israel" ;'),
    "evidence is no span": (r"parley:evidence (ev:[\w-]+)", "parley:evidence pid:nothing-here"),
    "member is an issue": (r"org:member (pid:[\w-]+)", "org:member pid:issue-nowhere"),
    "position about nothing": (r"\n    parley:onIssue [^;]*;", ""),
}


def _load(corpus_dir: Path, ontology_dir: Path | None = None):
    corpus = corpus_module.discover(corpus_dir, ontology_dir or packaged_ontology())
    store = Store()
    return corpus, store, load_files(store, corpus.rdf_files())


def _problems(report) -> set[str]:
    return {p.format() for p in report.errors} | set(report.warnings)


def _break(corpus_dir: Path, pattern: str, replacement: str) -> None:
    curated = corpus_dir / "curated" / ARTICLE
    text, count = re.subn(pattern, replacement, curated.read_text(encoding="utf-8"), count=1)
    assert count == 1, f"the article no longer contains {pattern!r}"
    curated.write_text(text, encoding="utf-8")


def test_compiled_shapes_pass_the_article_as_pyshacl_does(corpus_dir):
    corpus, store, maps = _load(corpus_dir)
    reference = shapes.check_shapes(store, corpus, maps, compiled=False)
    compiled = shapes.check_shapes(store, corpus, maps, compiled=True)
    assert _problems(compiled) == _problems(reference) == set()


def test_breakage_list_is_complete():
    assert len(BREAKAGES) == 18


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_compiled_shapes_report_what_pyshacl_reports(breakage, corpus_dir):
    _break(corpus_dir, *BREAKAGES[breakage])
    corpus, store, maps = _load(corpus_dir)
    reference = _problems(shapes.check_shapes(store, corpus, maps, compiled=False))
    compiled = _problems(shapes.check_shapes(store, corpus, maps, compiled=True))
    assert reference, "the breakage must violate a shape"
    assert compiled == reference
    assert any(re.match(rf".*{ARTICLE}:\d+:\d+: ", p) for p in compiled)


def test_compiled_shapes_leave_no_scratch_graph(corpus_dir):
    corpus, store, maps = _load(corpus_dir)
    before = {g.value for g in store.named_graphs()}
    shapes.check_shapes(store, corpus, maps, compiled=True)
    assert {g.value for g in store.named_graphs()} == before


def _inferred(store: Store) -> set[tuple[str, str, str]]:
    return {(str(q.subject), str(q.predicate), str(q.object))
            for q in store.quads_for_pattern(None, None, None, INFERRED_GRAPH)}


needs_java = pytest.mark.skipif(java_path() is None, reason="HermiT, the reference, needs Java")


@needs_java
def test_rules_infer_exactly_what_hermit_infers_on_the_article(corpus_dir):
    corpus, by_hermit, maps = _load(corpus_dir)
    hermit = reason(by_hermit, corpus, maps, java_path())
    assert hermit.skipped is None
    _, by_rules, maps = _load(corpus_dir)
    rules = reason(by_rules, corpus, maps, None, rules=True)
    assert rules.inferred == hermit.inferred > 100
    assert _inferred(by_rules) == _inferred(by_hermit)
    # Only the two graphs of the layout that reasoning writes to remain: no scratch graph.
    assert {g.value for g in by_rules.named_graphs()} == {g.value for g in by_hermit.named_graphs()}


@needs_java
def test_rules_infer_exactly_what_hermit_infers_on_the_tiny_corpus(tiny):
    corpus, by_hermit, maps = _load(tiny.corpus, tiny.ontology)
    reason(by_hermit, corpus, maps, tiny.java)
    corpus, by_rules, maps = _load(tiny.corpus, tiny.ontology)
    reason(by_rules, corpus, maps, None, rules=True)
    assert _inferred(by_rules) == _inferred(by_hermit) != set()


def test_rules_explain_a_disjointness_clash_as_hermit_does(corpus_dir):
    _break(corpus_dir, r"(pid:william-j-burns a parley:Person)", r"\1 , parley:State")
    corpus, store, maps = _load(corpus_dir)
    with pytest.raises(ValidationError) as caught:
        reason(store, corpus, maps, None, rules=True)
    assert caught.value.phase == "reasoning"
    assert "but parley:Person and parley:Organization are disjoint" in str(caught.value)
    assert not list(store.quads_for_pattern(None, None, None, INFERRED_GRAPH))


def test_rules_find_a_value_outside_its_data_range(tiny):
    ontology = tiny.ontology / "parley.ttl"
    ontology.write_text(ontology.read_text() + """
parley:score a owl:DatatypeProperty ;
    rdfs:range [ a rdfs:Datatype ; owl:onDatatype xsd:decimal ;
                 owl:withRestrictions ( [ xsd:minInclusive 0.0 ] [ xsd:maxInclusive 1.0 ] ) ] .
""")
    curated = next((tiny.corpus / "curated").glob("*.ttl"))
    curated.write_text(curated.read_text().replace(
        "pid:doha-talks a parley:Negotiation ;", "pid:doha-talks a parley:Negotiation ;\n"
        "    parley:score 1.5 ;"))
    corpus, store, maps = _load(tiny.corpus, tiny.ontology)
    with pytest.raises(ValidationError) as caught:
        reason(store, corpus, maps, None, rules=True)
    [problem] = caught.value.problems
    assert problem.message == ("pid:doha-talks has parley:score '1.5', outside the range of "
                               "parley:score (xsd:maxInclusive 1)")
    assert problem.path == curated and problem.line is not None
