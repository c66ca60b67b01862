"""The saved queries on the article graph: golden answers, the article's facts, CLI = Python."""
from __future__ import annotations

import json
import re

import pytest
from pyoxigraph import Literal, NamedNode, Quad, QueryResultsFormat, QuerySolutions, Store

from parley.kg.catalog import load_catalog, packaged_queries
from parley.kg.cli import cli
from parley.kg.namespaces import PARLEY, PID, source_graph
from parley.kg.querying import (bind_parameters, query_with_values, rows, run_query,
                                run_saved_query)
from parley.kg.settings import packaged_corpus
from parley.kg.store import fill_default_graph, open_read_only
from regen_golden import golden_cases, golden_path, golden_text

CATALOG = load_catalog()
CASES = golden_cases(CATALOG)
ARTICLE_QUESTIONS = {
    "negotiations-status": "How are the negotiations going?",
    "ceasefire-terms": "What terms are being floated for a new cease-fire?",
    "sticking-points": "What are the sticking points?",
    "after-the-war": "What happens after the war ends?",
}
REQUIRED = {*ARTICLE_QUESTIONS, "actors", "positions", "proposals", "who-said", "timeline",
            "evidence"}
ARTICLE = (packaged_corpus() / "sources" / "hostage-talks-2024-01.txt").read_text(encoding="utf-8")


def case_id(case) -> str:
    query, name, _ = case
    return query.id if name == "default" else f"{query.id}.{name}"


@pytest.fixture(scope="module")
def store(article_store) -> Store:
    return open_read_only(article_store)


def test_the_catalog_holds_every_query_file_and_the_required_ids():
    files = sorted(p.stem for p in packaged_queries().glob("*.rq"))
    assert list(CATALOG.ids) == files
    assert REQUIRED <= set(CATALOG.ids)
    # One golden case per query plus one per query whose examples differ from its defaults.
    assert len(CASES) == len(CATALOG) + sum(
        1 for q in CATALOG if any(p.example not in (None, p.default) for p in q.parameters))


@pytest.mark.parametrize("query_id, question", ARTICLE_QUESTIONS.items())
def test_the_article_questions_are_asked_by_their_queries(query_id, question):
    assert CATALOG.get(query_id).question == question


@pytest.mark.parametrize("query", CATALOG, ids=lambda q: q.id)
def test_saved_query_is_an_ordered_select_that_takes_its_parameters(query):
    assert re.search(r"\bORDER\s+BY\b", query.text, re.IGNORECASE), "compared rows need an order"
    for values in ({}, {p.name: p.example for p in query.parameters if p.example}):
        # An empty store is enough to parse the query and to check that pyoxigraph can
        # substitute every parameter (it refuses variables that are not projected), which
        # test_values_binding_answers_like_substitution compares with the VALUES binding.
        assert isinstance(run_saved_query(Store(), query, values), QuerySolutions)
        bindings = bind_parameters(query, values)
        assert isinstance(run_query(Store(), query.text, bindings=bindings), QuerySolutions)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_answer_matches_the_reviewed_golden_file(store, case):
    query, name, params = case
    path = golden_path(query, name)
    assert path.exists(), f"no golden file {path.name}: run tests/regen_golden.py and review the diff"
    assert golden_text(store, query, params) == path.read_text(encoding="utf-8"), (
        f"{query.id} changed; if the change is right, run tests/regen_golden.py and review "
        "`git diff tests/golden`")


def test_every_golden_file_belongs_to_a_case():
    expected = {golden_path(query, name) for query, name, _ in CASES}
    assert set(golden_path(CASES[0][0], "x").parent.glob("*.tsv")) == expected


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_values_binding_answers_like_substitution(store, case):
    # Every path binds parameters with VALUES blocks (the outer group and sub-selects that
    # project them); that must mean what binding the variable everywhere means.
    query, _, params = case
    bindings = bind_parameters(query, params)
    substituted = run_query(store, query.text, bindings=bindings).serialize(format=QueryResultsFormat.JSON)
    spliced = run_query(store, query_with_values(query, bindings))
    assert spliced.serialize(format=QueryResultsFormat.JSON) == substituted
    assert run_saved_query(store, query, params).serialize(format=QueryResultsFormat.JSON) == substituted


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_command_line_answers_like_python(store, article_store, runner, case):
    query, _, params = case
    options = [arg for name, value in params.items() for arg in ("--param", f"{name}={value}")]
    result = runner.invoke(cli, ["query", query.id, "--format", "json", "--store",
                                 str(article_store), *options])
    assert result.exit_code == 0, result.output
    python = run_saved_query(store, query, params).serialize(format=QueryResultsFormat.JSON)
    assert json.loads(result.stdout_bytes) == json.loads(python)


def test_command_line_refuses_a_bad_parameter_with_exit_code_2(article_store, runner):
    result = runner.invoke(cli, ["query", "positions", "--store", str(article_store),
                                 "--param", "actor=hamas> } ; DROP ALL ; #"])
    assert result.exit_code == 2
    assert "parameter 'actor'" in result.stderr


def test_command_line_lists_the_catalog(runner):
    result = runner.invoke(cli, ["query", "--list"])
    assert result.exit_code == 0, result.output
    for query in CATALOG:
        assert f"{query.id}  " in result.stdout or result.stdout.startswith(query.id)


# -- answers checked against the article itself --------------------------------------


QUOTED = re.compile(r"^quote")


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_rows_that_state_facts_quote_the_article_verbatim(store, case):
    query, _, params = case
    answer = rows(store, query, params)
    assert answer, f"{query.id} has no rows on the article graph"
    quotes = [name for name in answer[0] if QUOTED.match(name)]
    if query.id == "wikidata-links":
        assert not quotes  # its provenance is the link's method and score, not a quote
        return
    assert quotes, f"{query.id} states facts without an evidence quote"
    for row in answer:
        for name in quotes:
            assert row[name] and row[name] in ARTICLE, (query.id, name, row[name])
        if "source" in row:
            assert row["source"] == "https://w3id.org/parley/source/hostage-talks-2024-01"


def test_the_november_truce_released_more_than_100_hostages_and_240_prisoners(store):
    truce = {r["relation"]: r for r in rows(store, "negotiations-status") if r["topic"] == "truce"}
    hostages, prisoners = truce[PARLEY + "hostagesReleased"], truce[PARLEY + "prisonersReleased"]
    assert (hostages["value"], hostages["qualifier"]) == (100, PARLEY + "MoreThan")
    assert (prisoners["value"], prisoners["qualifier"]) == (240, PARLEY + "Exactly")
    assert hostages["date"].startswith("2023-11")
    assert "greater than 100 of the hostages" in hostages["quote"]
    assert "240 Palestinian prisoners" in prisoners["quote"]


def test_the_negotiations_have_parties_mediators_and_meetings(store):
    answer = rows(store, "negotiations-status")
    by_topic = lambda topic: {r["subject"] for r in answer if r["topic"] == topic}
    assert by_topic("party") == {PID + "israel", PID + "hamas"}
    assert {PID + "qatar", PID + "egypt", PID + "united-states"} <= by_topic("mediator")
    places = {r["object"] for r in answer if r["topic"] == "contact" and r["relation"] == PARLEY + "location"}
    assert {PID + "europe", PID + "qatar"} <= places


def test_the_biggest_sticking_point_is_whether_a_ceasefire_is_temporary_or_permanent(store):
    answer = rows(store, "sticking-points")
    first = answer[0]
    assert (first["issue"], first["prominence"]) == (PID + "issue-ceasefire-permanence", 1)
    assert "temporary or a permanent" in first["issueLabel"]
    assert {first["partyFor"], first["partyAgainst"]} == {PID + "israel", PID + "hamas"}
    assert PID + "issue-hamas-leaders-fate" in {r["issue"] for r in answer}


def test_sticking_points_follow_the_positions_in_the_graph(store):
    graph = Store()
    graph.bulk_extend(store)
    before = {r["issue"] for r in rows(graph, "sticking-points")}
    assert PID + "issue-hostage-releases" not in before
    # A mediator's position is no sticking point; one of a negotiating party is.
    _add_position(graph, "united-states", "hostage-releases", "Opposes")
    assert {r["issue"] for r in rows(graph, "sticking-points")} == before
    _add_position(graph, "israel", "hostage-releases", "Opposes")
    after = rows(graph, "sticking-points")
    added = [r for r in after if r["issue"] == PID + "issue-hostage-releases"]
    assert added and {r["partyAgainst"] for r in added} == {PID + "israel"}
    assert {r["partyFor"] for r in added} == {PID + "hamas"}


def _add_position(graph: Store, holder: str, issue: str, stance: str) -> None:
    g = source_graph("hostage-talks-2024-01")
    position = NamedNode(f"{PID}position-test-{holder}-{issue}")
    evidence = NamedNode(f"https://w3id.org/parley/evidence/test/{holder}-{issue}")
    p = lambda local: NamedNode(PARLEY + local)
    for s, pr, o in [
        (position, p("holder"), NamedNode(PID + holder)),
        (position, p("stance"), p(stance)),
        (position, p("onIssue"), NamedNode(f"{PID}issue-{issue}")),
        (position, p("evidence"), evidence),
        (evidence, NamedNode("http://www.w3.org/ns/oa#start"), Literal(0)),
        (evidence, NamedNode("http://www.w3.org/ns/oa#exact"), Literal("test")),
        (evidence, NamedNode("http://www.w3.org/ns/prov#wasQuotedFrom"),
         NamedNode("https://w3id.org/parley/source/test")),
    ]:
        graph.add(Quad(s, pr, o, g))
    fill_default_graph(graph)  # as the build's last phase does


def test_hamas_rejects_the_exile_of_its_leaders(store):
    answer = rows(store, "positions", actor="pid:hamas")
    rejections = [r for r in answer if r["stance"] == PARLEY + "Rejects"]
    assert rejections and all(r["polarity"] == -1 for r in rejections)
    assert any(_has(store, r["term"], "termType", PARLEY + "LeadersExile") for r in rejections)
    assert any("We won't leave" in (c["directQuote"] or "")
               for c in rows(store, "who-said") if c["asserts"] in {r["position"] for r in rejections})


def test_netanyahu_opposes_a_permanent_ceasefire_the_authority_and_a_state(store):
    answer = [r for r in rows(store, "positions", actor="pid:benjamin-netanyahu") if r["polarity"] == -1]
    # No permanent cease-fire that leaves Hamas in control of Gaza.
    ceasefire = [r for r in answer if r["issue"] == PID + "issue-ceasefire-permanence"]
    assert ceasefire and "Hamas in control" in ceasefire[0]["conditionLabel"]
    assert ceasefire[0]["statedOn"] == "2024-01-21"
    # No return of the Palestinian Authority, in its current form, to govern Gaza.
    authority = [r for r in answer if r["term"] and _has(store, r["term"], "termType", PARLEY + "GazaGovernance")
                 and _has(store, r["term"], "concerns", PID + "palestinian-authority")]
    assert authority and "current form" in authority[0]["conditionLabel"]
    # No independent Palestinian state after the war.
    assert PID + "issue-palestinian-statehood" in {r["issue"] for r in answer}


def test_after_the_war_shows_who_wants_and_who_opposes_the_authority_and_a_state(store):
    answer = [r for r in rows(store, "after-the-war") if r["kind"] == "position"]
    sides = lambda issue: {(r["holder"], r["polarity"]) for r in answer if r["issue"] == PID + issue}
    assert (PID + "benjamin-netanyahu", -1) in sides("issue-pa-return-to-gaza")
    assert (PID + "biden-administration-officials", 1) in sides("issue-pa-return-to-gaza")
    assert (PID + "benjamin-netanyahu", -1) in sides("issue-palestinian-statehood")
    assert (PID + "us-officials", 1) in sides("issue-palestinian-statehood")


def test_ceasefire_terms_include_the_mediators_framework_and_hamas_terms(store):
    answer = rows(store, "ceasefire-terms")
    kinds = {r["ceasefireKind"] for r in answer if r["ceasefireKind"]}
    assert {PARLEY + "ComprehensiveCeasefire", PARLEY + "LastingCeasefire",
            PARLEY + "PermanentCeasefire"} <= kinds
    floated = {(r["floatedBy"], r["termType"]) for r in answer}
    assert (PID + "hamas", PARLEY + "HostageRelease") in floated
    assert (PID + "mediators", PARLEY + "PrisonerRelease") in floated
    assert any(r["durationFrom"] == "http://www.w3.org/2006/time#unitWeek"
               and r["durationTo"] == "http://www.w3.org/2006/time#unitMonth" for r in answer)


def test_who_said_names_anonymous_sources(store):
    answer = rows(store, "who-said")
    anonymous = {r["claimant"]: r for r in answer if r["anonymousSource"]}
    assert anonymous[PID + "two-american-officials"]["headcount"] == 2
    assert anonymous[PID + "two-american-officials"]["affiliation"] == PID + "united-states"
    assert {PID + "senior-western-diplomat", PID + "regional-diplomat"} <= set(anonymous)


def test_timeline_is_in_date_order_with_undated_events_last(store):
    dates = [r["date"] for r in rows(store, "timeline")]
    dated = [d for d in dates if d is not None]
    assert dated == sorted(dated) and dates[:len(dated)] == dated
    assert dated[0] == "2005" and "2023-10-07" in dated


def test_evidence_lists_every_span_and_claim_behind_a_resource(store):
    answer = rows(store, "evidence", resource="pid:position-hamas-rejects-exile")
    spans = {r["quote"] for r in answer}
    assert "Hamas officers have rejected that concept." in spans
    assert {r["claimant"] for r in answer if r["claim"]} >= {PID + "husam-badran", PID + "hamas-officials"}
    for r in answer:
        assert ARTICLE[r["start"]:r["end"]] == r["quote"]


def _has(store: Store, subject: str, prop: str, value: str) -> bool:
    return any(store.quads_for_pattern(NamedNode(subject), NamedNode(PARLEY + prop), NamedNode(value)))


def test_notebook_dataframe_holds_the_rows(article_store):
    from parley.kg.querying import dataframe

    frame = dataframe(article_store, "positions", actor="pid:benjamin-netanyahu")
    answer = rows(article_store, "positions", {"actor": "pid:benjamin-netanyahu"})
    assert list(frame.columns) == list(answer[0])
    # pandas marks missing text as NaN; the rows say None.
    assert frame.astype(object).where(frame.notna(), None).to_dict("records") == answer
    assert set(frame["polarity"]) == {-1}
