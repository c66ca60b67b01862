"""The executor's answer bytes: pyoxigraph's own writers, cut at the row cap without losing a term."""
from __future__ import annotations

import pytest
from pyoxigraph import (BlankNode, DefaultGraph, Literal, NamedNode, Quad, QueryResultsFormat, RdfFormat, Store,
                        parse, parse_query_results)

from parley.kg.namespaces import BUILD_GRAPH
from parley.server.evaluation import serialize_result

EX = "http://example.org/"
# Terms whose lexical forms break naive line- or tab-based cutting.
AWKWARD = [
    Literal("two\nlines"),
    Literal("tab\tand\rreturn"),
    Literal('quote " and backslash \\'),
    Literal("שלום", language="he"),
    Literal("42", datatype=NamedNode("http://www.w3.org/2001/XMLSchema#integer")),
    BlankNode("b1"),
    NamedNode(EX + "plain"),
]
SELECT = f"SELECT ?s ?o ?missing WHERE {{ ?s <{EX}p> ?o OPTIONAL {{ ?s <{EX}none> ?missing }} }} ORDER BY ?s"
CONSTRUCT = f"CONSTRUCT {{ ?s <{EX}q> ?o }} WHERE {{ ?s <{EX}p> ?o }} ORDER BY ?s"


@pytest.fixture(scope="module")
def store() -> Store:
    store = Store()
    for index, term in enumerate(AWKWARD):
        store.add(Quad(NamedNode(f"{EX}s{index}"), NamedNode(EX + "p"), term))
    return store


def _formats(name: str) -> dict[str, str]:
    return {"solutions": name, "boolean": name, "triples": "N_TRIPLES"}


@pytest.mark.parametrize("name", ["JSON", "XML", "CSV", "TSV"])
def test_uncapped_solutions_are_exactly_pyoxigraphs_own(store, name):
    body, count, truncated = serialize_result(store.query(SELECT), _formats(name), row_cap=100)
    assert (count, truncated) == (len(AWKWARD), False)
    assert body == store.query(SELECT).serialize(format=getattr(QueryResultsFormat, name))


@pytest.mark.parametrize("cap", [0, 1, 3, len(AWKWARD) - 1])
@pytest.mark.parametrize("name", ["JSON", "XML", "TSV"])
def test_capped_solutions_are_the_first_rows_intact(store, name, cap):
    body, count, truncated = serialize_result(store.query(SELECT), _formats(name), row_cap=cap)
    assert (count, truncated) == (cap, True)
    got = [[row[v] for v in ("s", "o", "missing")]
           for row in parse_query_results(body, format=getattr(QueryResultsFormat, name))]
    expected = [[row[v] for v in ("s", "o", "missing")] for row in store.query(SELECT)][:cap]
    assert got == expected


@pytest.mark.parametrize("name", ["TURTLE", "N_TRIPLES", "RDF_XML", "JSON_LD", "TRIG", "N_QUADS"])
@pytest.mark.parametrize("cap", [2, 100])
def test_triples_capped_or_not_keep_every_term(store, name, cap):
    formats = {"solutions": "JSON", "boolean": "JSON", "triples": name}
    body, count, truncated = serialize_result(store.query(CONSTRUCT), formats, row_cap=cap)
    assert (count, truncated) == (min(cap, len(AWKWARD)), cap < len(AWKWARD))
    got = {quad.triple for quad in parse(body, format=getattr(RdfFormat, name))}
    everything = {triple for triple in store.query(CONSTRUCT)}
    assert len(got) == count and got <= everything
    if not truncated:
        # Blank nodes are renamed by a round trip; compare the rest exactly.
        assert {t for t in got if not isinstance(t.object, BlankNode)} == \
            {t for t in everything if not isinstance(t.object, BlankNode)}


def test_a_boolean_is_never_capped(store):
    body, count, truncated = serialize_result(store.query("ASK { ?s ?p ?o }"), _formats("JSON"), row_cap=0)
    assert (body, count, truncated) == (b'{"head":{},"boolean":true}', 1, False)


def test_a_select_without_variables(store):
    body, count, truncated = serialize_result(store.query("SELECT * {}"), _formats("JSON"), row_cap=5)
    assert (count, truncated) == (1, False)
    assert body == store.query("SELECT * {}").serialize(format=QueryResultsFormat.JSON)


def _link(link, target):
    staging = link.with_name(link.name + ".new")
    staging.symlink_to(target)
    staging.replace(link)


def _answers_from_memory(store: Store) -> bool:
    # A read-only on-disk store refuses writes; the in-memory copy takes them.
    probe = Quad(NamedNode(EX + "probe"), NamedNode(EX + "p"), Literal("x"))
    try:
        store.add(probe)
    except RuntimeError:  # "Transaction are only possible on read-write instances"
        return False
    store.remove(probe)
    return True


def test_a_build_answers_from_disk_at_once_and_from_memory_once_copied(tmp_path):
    from serving import make_store

    from parley.server.evaluation import StoreHolder

    link = tmp_path / "store"
    link.symlink_to(make_store(tmp_path / "builds" / "1", actors=5))
    holder = StoreHolder(str(link), "auto:1000", reload_interval=1.0)
    store, first, _, _ = holder.current()
    assert not _answers_from_memory(store) and len(store) == 15
    holder.refresh()  # what the watcher thread does
    store, build, _, _ = holder.current()
    assert build == first and _answers_from_memory(store) and len(store) == 15

    _link(link, make_store(tmp_path / "builds" / "2", actors=7))
    holder.refresh()
    store, second, _, _ = holder.current()
    assert second != first and len(store) == 19 and _answers_from_memory(store)


def test_a_store_above_the_automatic_limit_stays_on_disk(tmp_path):
    from serving import make_store

    from parley.server.evaluation import StoreHolder

    link = tmp_path / "store"
    link.symlink_to(make_store(tmp_path / "builds" / "1", actors=5))
    holder = StoreHolder(str(link), "auto:14", reload_interval=1.0)
    holder.refresh()
    store, _, _, _ = holder.current()
    assert not _answers_from_memory(store) and holder.to_copy is None


def _restated(materialised: bool) -> Store:
    """One fact stated by two sources, as shared actors are across articles."""
    store = Store()
    fact = (NamedNode(EX + "israel"), NamedNode(EX + "partyTo"), NamedNode(EX + "talks"))
    for source in ("a", "b"):
        store.add(Quad(*fact, NamedNode(EX + "graph/" + source)))
    if materialised:  # what a build writes, beside its build graph
        store.update("INSERT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }")
        store.add(Quad(NamedNode(EX + "build"), NamedNode(EX + "p"), Literal("x"), BUILD_GRAPH))
    return store


def test_the_default_graph_is_a_set_when_the_build_materialised_it():
    from parley.kg.querying import needs_union_view, run_query

    store = _restated(materialised=True)
    assert not needs_union_view(store)
    rows = list(run_query(store, f"SELECT ?s ?o WHERE {{ ?s <{EX}partyTo> ?o }} ORDER BY ?s"))
    assert len(rows) == 1  # pyoxigraph's union view would give one row per stating graph


def test_a_store_without_a_default_graph_is_read_through_the_union_view():
    from parley.kg.querying import needs_union_view, run_query

    store = _restated(materialised=False)
    assert needs_union_view(store)
    # Another tool's store keeps the view whatever its default graph holds.
    store.add(Quad(NamedNode(EX + "x"), NamedNode(EX + "p"), Literal("default"), DefaultGraph()))
    assert needs_union_view(store)
    rows = list(run_query(store, f"SELECT DISTINCT ?s ?o WHERE {{ ?s <{EX}partyTo> ?o }} ORDER BY ?s"))
    assert [row["o"] for row in rows] == [NamedNode(EX + "talks")]
