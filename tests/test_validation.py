"""Broken inputs fail with messages that name the file, the place and the likely fix."""
from __future__ import annotations

import dataclasses
import os
import re

import pytest

from parley.kg.build import check
from parley.kg.errors import UsageError, ValidationError


def _curated(settings):
    return next((settings.corpus / "curated").glob("*.ttl"))


def _edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _line_of(path, fragment):
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if fragment in line)


def _failure(settings) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        check(settings)
    return caught.value


def test_the_tiny_corpus_passes_every_check(tiny):
    report = check(tiny)
    assert [p.name for p in report.phases][:6] == [
        "discover", "parse", "vocabulary", "evidence", "shapes", "reasoning"]
    assert report.warnings == []


def test_syntax_error_names_file_line_and_column(tiny):
    curated = _curated(tiny)
    _edit(curated, "parley:evidence ev:talks-resumed .", "parley:evidence ev:talks-resumed")
    error = _failure(tiny)
    assert error.phase == "parse"
    [problem] = error.problems
    assert problem.path == curated
    assert problem.line == _line_of(curated, "pid:prime-minister a parley:Person")
    assert problem.col == 1
    assert re.match(rf".*{curated.name}:\d+:1: syntax error: ", str(problem))


def test_every_syntax_error_is_reported_not_only_the_first(tiny):
    _edit(_curated(tiny), "pid:qatar a", "pid:qatar a a")
    _edit(tiny.ontology / "shapes.ttl", "sh:targetClass parley:Position ;", "sh:targetClass ;")
    assert {p.path.name for p in _failure(tiny).problems} == {"tiny-talks.ttl", "shapes.ttl"}


def test_misspelled_property_suggests_the_declared_one(tiny):
    curated = _curated(tiny)
    _edit(curated, "parley:mediates pid:doha-talks", "parley:mediatse pid:doha-talks")
    error = _failure(tiny)
    assert error.phase == "vocabulary"
    [problem] = error.problems
    assert (problem.path, problem.line, problem.col) == (
        curated, _line_of(curated, "parley:mediatse"), 5)
    assert "parley:mediatse is used as a property but declared nowhere" in problem.message
    assert problem.hint == "did you mean parley:mediates?"


def test_misspelled_class_suggests_the_declared_one(tiny):
    _edit(_curated(tiny), "pid:prime-minister a parley:Person", "pid:prime-minister a parley:Persn")
    [problem] = _failure(tiny).problems
    assert "parley:Persn is used as a class" in problem.message
    assert problem.hint == "did you mean parley:Person?"


def test_quote_not_in_source_shows_the_closest_passage(tiny):
    curated = _curated(tiny)
    _edit(curated, 'oa:exact "Qatar is mediating the talks"', 'oa:exact "Qatar is mediating talks"')
    error = _failure(tiny)
    assert error.phase == "evidence"
    [problem] = error.problems
    assert "evidence ev:qatar-mediates: oa:exact is not found verbatim" in problem.message
    assert problem.line == _line_of(curated, "ev:qatar-mediates a parley:Evidence")
    text = (tiny.corpus / "sources" / "tiny-talks.txt").read_text()
    start = text.index("Qatar is mediating the talks")
    assert f"oa:start {start} ; oa:end {start + len('Qatar is mediating the talks')}" \
        in problem.hint


def test_quote_at_wrong_offsets_suggests_the_right_ones(tiny):
    text = (tiny.corpus / "sources" / "tiny-talks.txt").read_text()
    start = text.index("Qatar is mediating the talks")
    _edit(_curated(tiny), f"oa:start {start} ;", f"oa:start {start + 1} ;")
    [problem] = _failure(tiny).problems
    assert "occurs elsewhere" in problem.message
    assert problem.hint == f"use oa:start {start} ; oa:end {start + 28}"


def test_curated_subject_without_evidence_is_an_error(tiny):
    _edit(_curated(tiny), "    parley:evidence ev:talks-resumed .",
          '    parley:startDate "2024"^^xsd:gYear .')
    [problem] = _failure(tiny).problems
    assert "pid:doha-talks (a parley:Negotiation) has no parley:evidence" in problem.message


def test_position_without_holder_names_node_rule_and_message(tiny):
    curated = _curated(tiny)
    _edit(curated, "    parley:holder pid:prime-minister ;\n", "")
    error = _failure(tiny)
    assert error.phase == "shapes"
    [problem] = error.problems
    assert problem.line == _line_of(curated, "pid:position-pm-deal a parley:Position")
    assert problem.message.startswith("pid:position-pm-deal violates parley:PositionShape "
                                      "on parley:holder [sh:MinCountConstraintComponent]")
    assert "A Position has exactly one holder, an Actor." in problem.message


def test_inconsistent_type_names_the_individual_and_the_disjointness_axiom(tiny):
    curated = _curated(tiny)
    _edit(curated, "pid:qatar a parley:State ;", "pid:qatar a parley:State , parley:Person ;")
    error = _failure(tiny)
    assert error.phase == "reasoning"
    [problem] = error.problems
    axiom_line = _line_of(tiny.ontology / "parley.ttl", "a owl:AllDisjointClasses")
    assert problem.line == _line_of(curated, "pid:qatar a parley:State")
    assert problem.message == (
        f"pid:qatar is both a parley:Person and a parley:State, but parley:Person and "
        f"parley:Organization are disjoint ({tiny.ontology / 'parley.ttl'}:{axiom_line}:1)")


def test_inconsistency_through_a_property_range_is_explained(tiny):
    ontology = tiny.ontology / "parley.ttl"
    ontology.write_text(ontology.read_text() + "parley:Negotiation owl:disjointWith parley:Actor .\n")
    _edit(_curated(tiny), "pid:prime-minister a parley:Person ;",
          "pid:prime-minister a parley:Person ;\n    parley:mediates pid:qatar ;")
    [problem] = _failure(tiny).problems
    assert problem.message == (
        f"pid:qatar is both a parley:State and a parley:Negotiation (as object of "
        f"parley:mediates, whose range is parley:Negotiation), but parley:Actor and "
        f"parley:Negotiation are disjoint ({ontology}:{_line_of(ontology, 'parley:Negotiation owl:disjointWith')}:1)")


def test_missing_java_skips_reasoning_with_a_warning(tiny):
    settings = dataclasses.replace(tiny, java=str(tiny.store.parent / "no-java" / "java"))
    report = check(settings)
    assert report.reasoning.skipped.startswith("no Java runtime at ")
    assert any("reasoning skipped" in w for w in report.warnings)
    assert report.graphs.get("https://w3id.org/parley/graph/inferred", 0) == 0


def test_layout_problems_are_reported_together(tiny):
    (tiny.corpus / "sources" / "tiny-talks.ttl").unlink()
    (tiny.corpus / "curated" / "orphan.ttl").write_text("")
    error = _failure(tiny)
    assert error.phase == "corpus"
    assert len(error.problems) == 2


def test_missing_corpus_directory_is_a_usage_error(tiny):
    with pytest.raises(UsageError):
        check(dataclasses.replace(tiny, corpus=tiny.corpus / "nowhere"))


# The article: each kind of breakage fails the build; the store built before still answers.

ARTICLE_BREAKAGES = {
    "syntax": (r"(pid:william-j-burns a parley:Person ;(?:\n.*?)*? ev:burns-meeting) \.", r"\1",
               "parse", "syntax error"),
    "misspelled property": (r"parley:holder (pid:israel)", r"parley:holdr \1", "vocabulary",
                            "parley:holdr is used as a property but declared nowhere"),
    "quote not in source": (r'(oa:exact ")([^"]{12})', r"\1Nothing like this \2", "evidence",
                            "is not found verbatim"),
    "position without holder": (r"\n    parley:holder pid:israel ;", "", "shapes",
                                "on parley:holder [sh:MinCountConstraintComponent]"),
    "inconsistent type": (r"(pid:william-j-burns a parley:Person)", r"\1 , parley:State",
                          "reasoning", "but parley:Person and parley:Organization are disjoint"),
}


@pytest.mark.parametrize("breakage", sorted(ARTICLE_BREAKAGES))
def test_broken_article_fails_and_the_built_store_still_answers(breakage, article_store,
                                                                corpus_dir):
    from parley.kg.build import build
    from parley.kg.settings import BuildSettings, java_path, packaged_ontology
    from parley.kg.store import open_read_only

    pattern, replacement, phase, expected = ARTICLE_BREAKAGES[breakage]
    curated = corpus_dir / "curated" / "hostage-talks-2024-01.ttl"
    text = curated.read_text(encoding="utf-8")
    broken, count = re.subn(pattern, replacement, text, count=1)
    assert count == 1, f"the article no longer contains {pattern!r}"
    curated.write_text(broken, encoding="utf-8")
    before = os.path.realpath(article_store)
    with pytest.raises(ValidationError) as caught:
        build(BuildSettings(store=article_store, corpus=corpus_dir,
                            ontology=packaged_ontology(), java=java_path()))
    assert caught.value.phase == phase
    assert expected in str(caught.value)
    assert re.search(r"hostage-talks-2024-01\.ttl:\d+:\d+: ", str(caught.value))
    assert os.path.realpath(article_store) == before
    answer = open_read_only(article_store).query(
        "ASK { GRAPH ?g { <https://w3id.org/parley/id/william-j-burns> a ?class } }")
    assert bool(answer)
