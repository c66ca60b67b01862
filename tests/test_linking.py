"""Offline linking against the hand-verified Wikidata extract, on graphs the tests write."""
from __future__ import annotations

import csv
from datetime import datetime, timezone
from importlib.resources import files
from pathlib import Path

import pytest
from pyoxigraph import RdfFormat, Store

from parley.kg.errors import DataError
from parley.kg.link_review import accept_reviewed, load_decisions, read_review, write_review
from parley.kg.linking import LinkSettings, entities_from_store, link_quads, run_link
from parley.kg.namespaces import INFERRED_GRAPH, LINKS_GRAPH, WIKIDATA_GRAPH, source_graph
from parley.kg.reconciliation import (CLOSE_MATCH, EXACT_MATCH, Candidate, Entity,
                                      candidate_kind, name_similarity, normalise, reconcile)
from parley.kg.wikidata import METHOD_OFFLINE, OfflineCandidates, extract_quads

DATA = Path(str(files("parley.data")))
EXTRACT = DATA / "wikidata" / "wikidata-extract.ttl"
QUERIES = Path(str(files("parley.queries")))
WHEN = datetime(2024, 1, 25, 12, 0, tzinfo=timezone.utc)
P = "https://w3id.org/parley/ontology#"
PID = "https://w3id.org/parley/id/"
WD = "http://www.wikidata.org/entity/"

# The article's entities as curated data writes them: real names, design.md classes,
# the article's own spellings as alternative labels.
ARTICLE = """
@prefix parley: <https://w3id.org/parley/ontology#> .
@prefix pid: <https://w3id.org/parley/id/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
pid:benjamin-netanyahu a parley:Person ; rdfs:label "Benjamin Netanyahu"@en .
pid:mahmoud-abbas a parley:Person ; rdfs:label "Mahmoud Abbas"@en .
pid:william-j-burns a parley:Person ; rdfs:label "William J. Burns"@en .
pid:brett-mcgurk a parley:Person ; rdfs:label "Brett McGurk"@en .
pid:husam-badran a parley:Person ; rdfs:label "Husam Badran"@en .
pid:hamas a parley:PoliticalMovement ; rdfs:label "Hamas"@en .
pid:fatah a parley:PoliticalParty ; rdfs:label "Fatah"@en ; skos:altLabel "Fatah party"@en .
pid:palestinian-authority a parley:GoverningAuthority ; rdfs:label "Palestinian Authority"@en .
pid:cia a parley:IntelligenceAgency ; rdfs:label "Central Intelligence Agency"@en ;
    skos:altLabel "C.I.A."@en .
pid:mossad a parley:IntelligenceAgency ; rdfs:label "Mossad"@en .
pid:biden-administration a parley:Administration ; rdfs:label "Biden administration"@en ;
    skos:altLabel "White House"@en .
pid:israel a parley:State ; rdfs:label "Israel"@en .
pid:egypt a parley:State ; rdfs:label "Egypt"@en .
pid:qatar a parley:State ; rdfs:label "Qatar"@en .
pid:united-states a parley:State ; rdfs:label "United States"@en ; skos:altLabel "U.S."@en .
pid:gaza-strip a parley:Territory ; rdfs:label "Gaza Strip"@en ; skos:altLabel "Gaza"@en .
pid:west-bank a parley:Territory ; rdfs:label "West Bank"@en .
pid:europe a parley:Region ; rdfs:label "Europe"@en .
pid:middle-east a parley:Region ; rdfs:label "Middle East"@en .
pid:director-of-the-cia a parley:Office ; rdfs:label "Director of the C.I.A."@en .
pid:prime-minister-of-israel a parley:Office ; rdfs:label "Prime Minister of Israel"@en .
pid:president-of-the-palestinian-authority a parley:Office ;
    rdfs:label "President of the Palestinian Authority"@en .
pid:director-of-the-mossad a parley:Office ; rdfs:label "Director of the Mossad"@en .
pid:middle-east-coordinator a parley:Office ;
    rdfs:label "Middle East coordinator at the White House"@en .
pid:israel-hamas-war a parley:War ; rdfs:label "Israel–Hamas war"@en ;
    parley:startDate "2023-10-07"^^xsd:date .
pid:october-7-attack a parley:Attack ; rdfs:label "October 7 attack on Israel"@en ;
    skos:altLabel "Hamas’s Oct. 7 attack"@en ; parley:date "2023-10-07"^^xsd:date .
pid:november-2023-truce a parley:Truce ; rdfs:label "2023 Gaza war ceasefire"@en ;
    skos:altLabel "November 2023 truce"@en ;
    parley:startDate "2023-11-24"^^xsd:date ; parley:endDate "2023-12-01"^^xsd:date .
pid:election-2005 a parley:Election ;
    rdfs:label "2005 Palestinian presidential election"@en ; parley:date "2005"^^xsd:gYear .
pid:hamas-takeover-of-gaza a parley:Takeover ; rdfs:label "Hamas takeover of Gaza"@en ;
    parley:date "2007"^^xsd:gYear .
pid:us-officials a parley:Collective ; rdfs:label "U.S. officials"@en .
"""

EXPECTED_LINKS = {
    "benjamin-netanyahu": ("Q43723", EXACT_MATCH), "mahmoud-abbas": ("Q127998", EXACT_MATCH),
    "hamas": ("Q38799", EXACT_MATCH), "fatah": ("Q178888", EXACT_MATCH),
    "palestinian-authority": ("Q42620", EXACT_MATCH), "cia": ("Q37230", EXACT_MATCH),
    "israel": ("Q801", EXACT_MATCH), "egypt": ("Q79", EXACT_MATCH),
    "qatar": ("Q846", EXACT_MATCH), "united-states": ("Q30", EXACT_MATCH),
    "gaza-strip": ("Q39760", EXACT_MATCH), "west-bank": ("Q36678", EXACT_MATCH),
    "europe": ("Q46", EXACT_MATCH), "israel-hamas-war": ("Q122962941", EXACT_MATCH),
    "november-2023-truce": ("Q123509933", EXACT_MATCH),
    "election-2005": ("Q1965086", EXACT_MATCH),
    "director-of-the-cia": ("Q27656", EXACT_MATCH),
    "prime-minister-of-israel": ("Q208487", EXACT_MATCH),
    "president-of-the-palestinian-authority": ("Q2336111", EXACT_MATCH),
    "biden-administration": ("Q35525", CLOSE_MATCH),
}
UNLINKED = {"william-j-burns", "brett-mcgurk", "husam-badran", "mossad", "middle-east",
            "director-of-the-mossad", "middle-east-coordinator", "october-7-attack",
            "hamas-takeover-of-gaza"}


def article_store(turtle: str = ARTICLE) -> Store:
    store = Store()
    store.load(turtle.encode(), format=RdfFormat.TURTLE, to_graph=source_graph("test-article"))
    return store


def links_of(result) -> dict[str, tuple[str, str]]:
    return {l.entity.iri.removeprefix(PID): (l.candidate.qid, l.property) for l in result.links}


@pytest.fixture(scope="module")
def offline() -> OfflineCandidates:
    return OfflineCandidates(EXTRACT)


@pytest.mark.parametrize("text, expected", [
    ("C.I.A.", "cia"), ("the White House", "white house"), ("Hamas’s", "hamas"),
    ("Israel–Hamas war", "israel hamas war"), ("Gaza Strip", "gaza strip"),
    ("Ḥamās", "hamas"), ("cease-fire", "ceasefire"), ("Truce", "ceasefire"),
    ("Director of the C.I.A.", "director of cia"),
])
def test_normalise(text, expected):
    assert normalise(text) == expected


def test_name_similarity_is_one_only_for_equal_names():
    assert name_similarity("Director of the C.I.A.", "Director of the CIA") == 1.0
    assert name_similarity("Palestinian Authority", "State of Palestine") == 0.0
    assert 0 < name_similarity("Palestinian Authority", "Palestinian National Authority") < 1


def test_candidate_kinds_follow_p31_then_the_description_head_noun(offline):
    kinds = {c.qid: candidate_kind(c) for c in offline.candidates}
    assert kinds["Q43723"] == "Person" and kinds["Q801"] == "State"
    assert kinds["Q35525"] == "Building"          # a residence, not an administration
    assert kinds["Q208487"] == "Office"           # "head of government of Israel"
    assert kinds["Q42620"] == "Government" and kinds["Q219060"] == "State"
    assert kinds["Q122962941"] == "War" and kinds["Q123509933"] == "Truce"


def test_offline_links_every_confirmed_entity_to_exactly_its_identifier(offline):
    entities = entities_from_store(article_store())
    result = reconcile(entities, offline)
    assert links_of(result) == EXPECTED_LINKS
    assert all(l.method == METHOD_OFFLINE and l.score >= 0.85 for l in result.links)


def test_unconfirmed_entities_stay_unlinked_and_are_listed_for_review(offline):
    result = reconcile(entities_from_store(article_store()), offline)
    reviewed = {i.entity.iri.removeprefix(PID) for i in result.review}
    assert reviewed == UNLINKED
    # Never a guessed identifier: what review offers comes from the extract, and no
    # candidate offered for the attack is the war.
    attack = next(i for i in result.review if i.entity.iri.endswith("october-7-attack"))
    assert "Q122962941" not in {s.candidate.qid for s in attack.candidates}


def test_collectives_are_not_reconciled():
    iris = {e.iri for e in entities_from_store(article_store())}
    assert PID + "us-officials" not in iris and PID + "hamas" in iris


@pytest.mark.parametrize("label, cls, wrong", [
    ("Palestinian Authority", "GoverningAuthority", {"Q219060", "Q23792", "Q2336111"}),
    ("Palestine", "GoverningAuthority", {"Q219060"}),
    ("White House", "Administration", {"Q35525"}),   # close, never exact
    ("Biden", "Administration", {"Q6279"}),
    ("October 7 attack", "Attack", {"Q122962941"}),
    ("2005 Palestinian legislative election", "Election", {"Q977390"}),
])
def test_no_entity_is_linked_exactly_to_a_wrong_item(offline, label, cls, wrong):
    years = frozenset({"2005"}) if cls == "Election" else frozenset()
    entity = Entity(PID + "x", (label,), frozenset({P + cls}), years)
    result = reconcile([entity], offline)
    assert not {l.candidate.qid for l in result.links if l.property == EXACT_MATCH} & wrong


def test_two_equally_good_candidates_are_ambiguous_not_linked():
    entity = Entity(PID + "georgia", ("Georgia",), frozenset({P + "State"}))
    twins = [Candidate(WD + "Q230", "Georgia", (), "country in the Caucasus"),
             Candidate(WD + "Q1428", "Georgia", (), "state of the United States")]

    class Twins:
        method = METHOD_OFFLINE

        def candidates_for(self, entity):
            return twins

    result = reconcile([entity], Twins())
    assert result.links == []
    assert result.review[0].reason.startswith("ambiguous")
    assert {s.candidate.qid for s in result.review[0].candidates} == {"Q230", "Q1428"}


def test_types_come_from_the_inferred_graph_too(offline):
    store = article_store("""
        @prefix pid: <https://w3id.org/parley/id/> .
        @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
        pid:qatar rdfs:label "Qatar"@en .""")
    assert entities_from_store(store) == []
    store.load(b'<https://w3id.org/parley/id/qatar> a <https://w3id.org/parley/ontology#State> .',
               format=RdfFormat.TURTLE, to_graph=INFERRED_GRAPH)
    assert links_of(reconcile(entities_from_store(store), offline)) == {
        "qatar": ("Q846", EXACT_MATCH)}


def test_run_link_writes_links_with_provenance_and_the_extract(tmp_path):
    store = article_store()
    report = run_link(store, LinkSettings(extract=EXTRACT, review=tmp_path / "review.tsv"), WHEN)
    assert report.warnings == []
    # Offline, the Wikidata graph is the extract, no more and no less.
    assert set(store.quads_for_pattern(None, None, None, WIKIDATA_GRAPH)) == \
        set(extract_quads(EXTRACT))
    rows = list(store.query("""
        PREFIX parley: <https://w3id.org/parley/ontology#>
        PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
        PREFIX prov: <http://www.w3.org/ns/prov#>
        SELECT ?entity ?p ?item ?method ?score ?matched ?when WHERE {
          GRAPH <https://w3id.org/parley/graph/links> {
            ?entity ?p ?item .
            ?link a parley:Link ; rdf:subject ?entity ; rdf:predicate ?p ; rdf:object ?item ;
              parley:linkMethod ?method ; parley:score ?score ; parley:matchedLabel ?matched ;
              prov:generatedAtTime ?when } }
        ORDER BY ?entity"""))
    assert len(rows) == len(EXPECTED_LINKS)
    by_entity = {r["entity"].value.removeprefix(PID): r for r in rows}
    white_house = by_entity["biden-administration"]
    assert white_house["p"].value == CLOSE_MATCH and white_house["matched"].value == "White House"
    assert by_entity["cia"]["item"].value == WD + "Q37230"
    assert {r["when"].value for r in rows} == {"2024-01-25T12:00:00Z"}
    # Relinking replaces the links graph instead of piling up old links.
    run_link(store, LinkSettings(extract=EXTRACT), WHEN)
    assert len(list(store.quads_for_pattern(None, None, None, LINKS_GRAPH))) == \
        9 * len(EXPECTED_LINKS)


def test_saved_query_lists_linked_entities_with_wikidata_labels(tmp_path):
    store = article_store()
    run_link(store, LinkSettings(extract=EXTRACT), WHEN)
    rows = list(store.query((QUERIES / "wikidata-links.rq").read_text(encoding="utf-8")))
    assert [r["label"].value for r in rows] == sorted(r["label"].value for r in rows)
    assert len(rows) == len(EXPECTED_LINKS)
    abbas = next(r for r in rows if r["entity"].value == PID + "mahmoud-abbas")
    assert abbas["wikidata"].value == WD + "Q127998"
    assert abbas["wikidataLabel"].value == "Mahmoud Abbas"
    assert "Palestinian" in abbas["wikidataDescription"].value


def test_review_file_lists_candidates_and_entities_without_any(tmp_path, offline):
    result = reconcile(entities_from_store(article_store()), offline)
    path = tmp_path / "review.tsv"
    write_review(result, path)
    rows = read_review(path)
    mossad = [r for r in rows if r["entity"] == PID + "mossad"]
    assert len(mossad) == 1
    assert mossad[0]["candidate"] == "" and mossad[0]["reason"] == "no candidate"
    assert {r["entity"] for r in rows} == {PID + s for s in UNLINKED}


def curated_decision(path: Path, entity: str, qid: str, decision: str) -> None:
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    hit = [r for r in rows if r["entity"] == PID + entity and r["candidate"] == WD + qid]
    assert len(hit) == 1, f"{entity} -> {qid} is not a review row"
    hit[0]["decision"] = decision
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, list(rows[0]), delimiter="\t", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def test_a_curator_accepts_a_reviewed_candidate_with_one_command(tmp_path):
    # An event named only in the article's words scores below the threshold ...
    store = article_store(ARTICLE.replace('rdfs:label "2023 Gaza war ceasefire"@en ;', ""))
    review, decisions = tmp_path / "review.tsv", tmp_path / "decisions.ttl"
    settings = LinkSettings(extract=EXTRACT, review=review, decisions=decisions)
    first = run_link(store, settings, WHEN)
    assert "november-2023-truce" not in links_of(first.result)
    curated_decision(review, "november-2023-truce", "Q123509933", "exactMatch")
    made = accept_reviewed(review, decisions, "A. Curator", WHEN)
    assert [(d.entity, d.item, d.accepted) for d in made] == [
        (PID + "november-2023-truce", WD + "Q123509933", True)]
    # ... and after the decision it is linked, attributed to the curator.
    second = run_link(store, settings, WHEN)
    assert links_of(second.result)["november-2023-truce"] == ("Q123509933", EXACT_MATCH)
    assert "curator" in next(l.method for l in second.result.links
                             if l.entity.iri.endswith("truce")).lower()
    agent = list(store_with(decisions).query(
        "SELECT ?name WHERE { ?d <http://www.w3.org/ns/prov#wasAttributedTo> ?a . "
        "?a <http://www.w3.org/2000/01/rdf-schema#label> ?name }"))
    assert [r["name"].value for r in agent] == ["A. Curator"]
    # The decision survives relinking: the review file no longer lists the truce.
    assert PID + "november-2023-truce" not in {r["entity"] for r in read_review(review)}


def test_a_rejected_candidate_is_never_linked(tmp_path):
    store = article_store()
    review, decisions = tmp_path / "review.tsv", tmp_path / "decisions.ttl"
    review.write_text("\t".join(("entity", "entity_label", "reason", "candidate",
                                 "candidate_label", "candidate_description", "matched_label",
                                 "score", "property", "method", "decision", "note")) + "\n"
                      + "\t".join((PID + "europe", "Europe", "curator check", WD + "Q46",
                                   "Europe", "", "Europe", "0.925", "exactMatch", "",
                                   "reject", "the continent, not the meeting place")) + "\n",
                      encoding="utf-8")
    accept_reviewed(review, decisions, "A. Curator", WHEN)
    decision = load_decisions(decisions)[(PID + "europe", WD + "Q46")]
    assert not decision.accepted
    assert "the continent, not the meeting place" in decisions.read_text(encoding="utf-8")
    result = run_link(store, LinkSettings(extract=EXTRACT, decisions=decisions), WHEN).result
    assert "europe" not in links_of(result)
    assert "link rejected by curator" in {i.reason for i in result.review
                                          if i.entity.iri == PID + "europe"}


def test_accepting_an_unknown_decision_names_the_line(tmp_path, offline):
    review = tmp_path / "review.tsv"
    write_review(reconcile(entities_from_store(article_store()), offline), review)
    rows = read_review(review)
    rows[0]["decision"] = "maybe"
    with open(review, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, list(rows[0]), delimiter="\t", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    with pytest.raises(DataError, match=r"review.tsv:2: unknown decision 'maybe'"):
        accept_reviewed(review, tmp_path / "decisions.ttl", "A. Curator", WHEN)
    assert not (tmp_path / "decisions.ttl").exists()


def test_link_quads_are_deterministic(offline):
    result = reconcile(entities_from_store(article_store()), offline)
    assert link_quads(result, WHEN) == link_quads(result, WHEN)


def store_with(path: Path) -> Store:
    store = Store()
    store.load(path=path, format=RdfFormat.TURTLE)
    return store


# The article's curated data and the curator's link decisions, as `kg build` links them.
ARTICLE_LINKS = {
    "benjamin-netanyahu": "Q43723", "mahmoud-abbas": "Q127998", "joe-biden": "Q6279",
    "hamas": "Q38799", "fatah": "Q178888", "palestinian-authority": "Q42620",
    "cia": "Q37230", "israel": "Q801", "egypt": "Q79", "qatar": "Q846",
    "united-states": "Q30", "gaza-strip": "Q39760", "west-bank": "Q36678", "europe": "Q46",
    "israel-hamas-war": "Q122962941", "november-truce": "Q123509933",
    "palestinian-election-2005": "Q1965086", "office-director-of-the-cia": "Q27656",
    "office-prime-minister-of-israel": "Q208487",
    "office-president-of-the-palestinian-authority": "Q2336111",
}
ARTICLE_UNLINKED = {"william-j-burns", "brett-mcgurk", "husam-badran", "mossad",
                    "mossad-chief", "office-director-of-the-mossad", "october-7-attack",
                    "hamas-takeover-of-gaza-2007", "middle-east"}


def test_the_article_is_linked_as_the_evidence_file_confirms(tmp_path):
    store = Store()
    for curated in sorted((DATA / "curated").glob("*.ttl")):
        store.load(path=curated, format=RdfFormat.TURTLE, to_graph=source_graph(curated.stem))
    settings = LinkSettings(extract=EXTRACT, decisions=DATA / "links" / "decisions.ttl",
                            review=tmp_path / "review.tsv")
    report = run_link(store, settings, WHEN)
    assert report.warnings == []
    links = {l.entity.iri.removeprefix(PID): (l.candidate.qid, l.property)
             for l in report.result.links}
    assert links == {**{k: (q, EXACT_MATCH) for k, q in ARTICLE_LINKS.items()},
                     "biden-administration": ("Q35525", CLOSE_MATCH)}
    reviewed = {r["entity"].removeprefix(PID) for r in read_review(tmp_path / "review.tsv")}
    assert ARTICLE_UNLINKED <= reviewed and not reviewed & set(links)
