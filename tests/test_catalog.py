"""The saved-query catalog: header parsing, typed parameters and how they are bound."""
from __future__ import annotations

import datetime
import json
import textwrap

import pytest
from pyoxigraph import Literal, NamedNode, Quad, QueryResultsFormat, QuerySolutions, Store

from parley.kg.catalog import PARAMETER_TYPES, Parameter, load_catalog, load_query
from parley.kg.errors import DataError, ParameterError, QueryError
from parley.kg.namespaces import PID, XSD
from parley.kg.presenting import parse_param_options, present_catalog, present_query
from parley.kg.querying import (bind_parameters, query_with_values, rows, run_query,
                                run_saved_query, values_clause, with_leading_values)

EX = "http://example.org/"

POSITIONS = """\
#+ title: Positions of an actor
#+ question: Where does this actor stand?
#+ description: Every position the actor holds,
#+   with its stance.
#  an ordinary comment, not metadata
#+ tags: positions, actors
#+ param: actor
#+   type: iri
#+   default: pid:hamas
#+   example: pid:benjamin-netanyahu
#+   description: The actor whose
#+     positions to list.
#+ param: since
#+   type: date
#+   default: 2000-01-01

PREFIX ex: <http://example.org/>
SELECT ?actor ?since ?stance ?note WHERE {
  ?actor ex:holds ?stance .
  OPTIONAL { ?stance ex:note ?note }
  ?stance ex:on ?on FILTER (?on >= ?since)
} ORDER BY ?actor ?stance
"""


def write(folder, name, text):
    path = folder / f"{name}.rq"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture
def store():
    s = Store()
    date = NamedNode(XSD + "date")
    for actor, stance, on in [("hamas", "rejects-exile", "2024-01-20"),
                              ("hamas", "demands-ceasefire", "2023-12-01"),
                              ("benjamin-netanyahu", "opposes-state", "2024-01-21")]:
        graph = NamedNode("https://w3id.org/parley/graph/source/test")
        s.add(Quad(NamedNode(PID + actor), NamedNode(EX + "holds"), NamedNode(EX + stance), graph))
        s.add(Quad(NamedNode(EX + stance), NamedNode(EX + "on"), Literal(on, datatype=date), graph))
    s.add(Quad(NamedNode(EX + "rejects-exile"), NamedNode(EX + "note"), Literal('say "no"; DROP ALL')))
    return s


@pytest.fixture
def catalog(tmp_path):
    write(tmp_path, "positions", POSITIONS)
    write(tmp_path, "everything", """\
        #+ title: Everything
        #+ description: All triples.
        SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o
        """)
    return load_catalog(tmp_path)


def test_header_fields(catalog):
    query = catalog.get("positions")
    assert query.id == "positions"
    assert query.title == "Positions of an actor"
    assert query.question == "Where does this actor stand?"
    assert query.description == "Every position the actor holds, with its stance."
    assert query.tags == ("positions", "actors")
    actor, since = query.parameters
    assert actor == Parameter("actor", "iri", "pid:hamas", "pid:benjamin-netanyahu",
                              "The actor whose positions to list.")
    assert (since.name, since.type, since.default, since.example) == ("since", "date", "2000-01-01", None)
    assert not actor.required
    assert query.text.startswith("#+ title:")


def test_catalog_lists_files_in_id_order(catalog):
    assert catalog.ids == ("everything", "positions")
    assert len(catalog) == 2 and "positions" in catalog and "nope" not in catalog
    everything = catalog.get("everything")
    assert everything.question is None and everything.parameters == () and everything.tags == ()


def test_unknown_query_is_a_query_error(catalog):
    with pytest.raises(QueryError, match="unknown saved query 'nope'.*everything, positions"):
        catalog.get("nope")


def test_describe_is_json_ready(catalog):
    described = json.loads(json.dumps(catalog.get("positions").describe()))
    assert described["id"] == "positions"
    assert described["parameters"][0] == {
        "name": "actor", "type": "iri", "required": False, "default": "pid:hamas",
        "example": "pid:benjamin-netanyahu", "description": "The actor whose positions to list."}


BROKEN_HEADERS = [
    ("#+ titel: X\n#+ description: d\nSELECT ?s WHERE {?s ?p ?o}", 1, "unknown header key 'titel'"),
    ("#+ title: X\nSELECT ?s WHERE {?s ?p ?o}", 1, "no `#\\+ description:`"),
    ("#+ title: X\n#+ description: d\n#+ title: Y\nSELECT ?s WHERE {?s ?p ?o}", 3, "`title` is given twice"),
    ("#+ title: X\n#+ description: d\n#+ param: s\nSELECT ?s WHERE {?s ?p ?o}", 3, "parameter 's' has no type"),
    ("#+ title: X\n#+ description: d\n#+ param: s\n#+   type: uri\nSELECT ?s WHERE {?s ?p ?o}", 4, "has type 'uri'"),
    ("#+ title: X\n#+ description: d\n#+ param: x\n#+   type: iri\nSELECT ?s WHERE {?s ?p ?o}", 3, "'x' is not a variable"),
    ("#+ title: X\n#+ description: d\n#+ param: s-1\n#+   type: iri\nSELECT ?s WHERE {?s ?p ?o}", 3, "not a parameter name"),
    ("#+ title: X\n#+ description: d\n#+ param: s\n#+   type: integer\n#+   default: ten\nSELECT ?s WHERE {?s ?p ?o}", 5, "default does not fit"),
    ("#+ title: X\n#+ description: d\n#+ param: s\n#+   type: iri\n#+   example: nowhere:x\nSELECT ?s WHERE {?s ?p ?o}", 5, "example does not fit"),
    ("#+ title: X\n#+ description: d\n#+ param: s\n#+   type: iri\n#+ param: s\n#+   type: iri\nSELECT ?s WHERE {?s ?p ?o}", 5, "declared twice"),
    ("#+ title: X\n#+ description: d\n#+ param: s\n#+   kind: iri\nSELECT ?s WHERE {?s ?p ?o}", 4, "unknown header key 'kind'"),
    ("#+   title: X\n#+ description: d\nSELECT ?s WHERE {?s ?p ?o}", 1, "continues nothing"),
]


@pytest.mark.parametrize("text, line, message", BROKEN_HEADERS)
def test_broken_header_names_file_and_line(tmp_path, text, line, message):
    path = write(tmp_path, "broken", text)
    with pytest.raises(DataError, match=message) as caught:
        load_query(path)
    assert caught.value.path == path and caught.value.line == line


def test_metadata_after_the_header_is_not_read(tmp_path):
    path = write(tmp_path, "late", "#+ title: X\n#+ description: d\nSELECT ?s WHERE {?s ?p ?o}\n#+ title: Y\n")
    assert load_query(path).title == "X"


def test_query_id_must_be_a_slug(tmp_path):
    path = write(tmp_path, "Bad_Name", "#+ title: X\n#+ description: d\nSELECT * {}")
    with pytest.raises(DataError, match="not a saved-query id"):
        load_query(path)


def test_missing_folder_is_a_query_error(tmp_path):
    with pytest.raises(QueryError, match="no such folder"):
        load_catalog(tmp_path / "absent")


def param(kind):
    return Parameter("p", kind)


@pytest.mark.parametrize("kind, value, term", [
    ("iri", "pid:hamas", NamedNode(PID + "hamas")),
    ("iri", "parley:Supports", NamedNode("https://w3id.org/parley/ontology#Supports")),
    ("iri", "https://w3id.org/parley/id/hamas", NamedNode(PID + "hamas")),
    ("iri", "http://www.wikidata.org/entity/Q38082", NamedNode("http://www.wikidata.org/entity/Q38082")),
    ("iri", "urn:isbn:0451450523", NamedNode("urn:isbn:0451450523")),
    ("iri", NamedNode(EX + "x"), NamedNode(EX + "x")),
    ("string", 'x" } ; DROP ALL ; #', Literal('x" } ; DROP ALL ; #')),
    ("string", "", Literal("")),
    ("integer", "-12", Literal(-12)),
    ("integer", 7, Literal(7)),
    ("date", "2024-01-21", Literal("2024-01-21", datatype=NamedNode(XSD + "date"))),
    ("date", datetime.date(2023, 11, 24), Literal("2023-11-24", datatype=NamedNode(XSD + "date"))),
    ("boolean", "true", Literal(True)),
    ("boolean", False, Literal(False)),
])
def test_values_become_typed_terms(kind, value, term):
    assert param(kind).to_term(value) == term


@pytest.mark.parametrize("kind, value", [
    ("iri", "hamas"),                       # relative
    ("iri", "pdi:hamas"),                   # unknown prefix, not an IRI scheme we accept
    ("iri", "ftp://example.org/x"),
    ("iri", "pid:hamas> } ; DROP ALL ; #"),
    ("iri", "http://example.org/x> } ; DROP ALL ; #"),
    ("iri", "http://example.org/a b"),
    ("iri", "pid:"),
    ("iri", 42),
    ("string", 3),
    ("integer", "12.5"),
    ("integer", "1e3"),
    ("integer", " 1"),
    ("integer", True),
    ("date", "2024-02-30"),
    ("date", "21/01/2024"),
    ("date", "2024-01"),
    ("date", datetime.datetime(2024, 1, 21, 12, 0)),
    ("boolean", "yes"),
    ("boolean", "True"),
    ("boolean", 1),
])
def test_bad_values_name_the_parameter(kind, value):
    with pytest.raises(ParameterError, match="parameter 'p'"):
        param(kind).to_term(value)


def test_every_type_is_tested():
    assert set(PARAMETER_TYPES) == {"iri", "string", "integer", "date", "boolean"}


def test_defaults_fill_in_and_unknown_or_missing_parameters_are_refused(tmp_path, catalog):
    query = catalog.get("positions")
    assert bind_parameters(query) == {
        "actor": NamedNode(PID + "hamas"),
        "since": Literal("2000-01-01", datatype=NamedNode(XSD + "date"))}
    with pytest.raises(ParameterError, match="unknown parameter 'who' .*actor, since"):
        bind_parameters(query, {"who": "pid:hamas"})
    required = load_query(write(tmp_path, "required", "#+ title: X\n#+ description: d\n"
                                "#+ param: s\n#+   type: iri\nSELECT ?s WHERE {?s ?p ?o} ORDER BY ?s"))
    with pytest.raises(ParameterError, match="parameter 's' of saved query 'required' is required"):
        bind_parameters(required, {})


def test_parameters_are_bound_as_terms(store, catalog):
    answer = rows(store, "positions", catalog=catalog)
    assert [r["stance"] for r in answer] == [EX + "demands-ceasefire", EX + "rejects-exile"]
    assert answer[1]["note"] == 'say "no"; DROP ALL'
    assert {r["actor"] for r in answer} == {PID + "hamas"}
    later = rows(store, "positions", {"since": "2024-01-01"}, catalog=catalog)
    assert [r["stance"] for r in later] == [EX + "rejects-exile"]
    assert rows(store, "positions", catalog=catalog, actor="pid:benjamin-netanyahu")[0]["stance"] == EX + "opposes-state"


def test_values_binding_gives_the_substitution_answer(store, catalog):
    query = catalog.get("positions")
    for params in ({}, {"actor": "pid:benjamin-netanyahu"}, {"since": "2024-01-01"}):
        bindings = bind_parameters(query, params)
        substituted = run_saved_query(store, query, params).serialize(format=QueryResultsFormat.JSON)
        spliced = run_query(store, query_with_values(query, bindings)).serialize(format=QueryResultsFormat.JSON)
        assert substituted == spliced


def test_values_clause_escapes_what_it_holds():
    clause = values_clause({"q": Literal('a" } DROP ALL { "'), "n": Literal(3)})
    assert clause == ('VALUES (?q ?n) { ("a\\" } DROP ALL { \\"" '
                      '"3"^^<http://www.w3.org/2001/XMLSchema#integer>) }')
    # The injected text stays inside one literal: the query still parses to one VALUES row.
    answer = list(Store().query(f"SELECT ?q ?n WHERE {{}} {clause}"))
    assert len(answer) == 1 and answer[0]["q"].value == 'a" } DROP ALL { "'


def test_injection_attempt_in_a_string_is_just_a_string(tmp_path, store):
    query = load_query(write(tmp_path, "notes", "#+ title: Notes\n#+ description: d\n"
                             "#+ param: note\n#+   type: string\n#+   default: x\n"
                             "PREFIX ex: <http://example.org/>\n"
                             "SELECT ?s ?note WHERE { ?s ex:note ?note } ORDER BY ?s"))
    found = list(run_saved_query(store, query, {"note": 'say "no"; DROP ALL'}))
    assert [s["s"] for s in found] == [NamedNode(EX + "rejects-exile")]
    assert list(run_saved_query(store, query, {"note": '" } ?s ?p ?o { "'})) == []
    assert len(store) == 7


def test_unprojected_parameter_still_binds_the_group(tmp_path, store):
    # VALUES binds a parameter the query does not project; a substitution refuses it.
    query = load_query(write(tmp_path, "hidden", "#+ title: X\n#+ description: d\n"
                             "#+ param: s\n#+   type: iri\n#+   default: pid:hamas\n"
                             "SELECT ?o WHERE { ?s ?p ?o } ORDER BY ?o"))
    assert [r["o"] for r in rows(store, query)] == [EX + "demands-ceasefire", EX + "rejects-exile"]
    with pytest.raises(QueryError, match="cannot take its parameters"):
        run_query(store, query.text, bindings=bind_parameters(query))


def test_syntax_error_is_a_query_error(store):
    with pytest.raises(QueryError, match="cannot be parsed"):
        run_query(store, "SELECT WHERE {")


def test_ad_hoc_queries_read_the_union_of_graphs(store):
    assert len(list(run_query(store, "SELECT * WHERE { ?s ?p ?o }"))) == 7
    assert isinstance(run_query(store, "SELECT * WHERE { ?s ?p ?o }"), QuerySolutions)


def test_command_line_body(store, catalog):
    table = present_query(store, catalog, "positions", ["actor=pid:hamas"]).decode()
    lines = table.splitlines()
    assert lines[0].split() == ["actor", "since", "stance", "note"]
    assert lines[2].split()[:3] == ["pid:hamas", "2000-01-01", "<http://example.org/demands-ceasefire>"]
    assert lines[-1] == "(2 rows)"
    csv = present_query(store, catalog, "positions", ["since=2024-01-01"], "csv").decode()
    assert csv.splitlines() == ["actor,since,stance,note",
                                f"{PID}hamas,2024-01-01,{EX}rejects-exile,\"say \"\"no\"\"; DROP ALL\""]
    with pytest.raises(ParameterError, match="parameter 'since'"):
        present_query(store, catalog, "positions", ["since=yesterday"], "json")
    with pytest.raises(ParameterError, match="unknown format 'yaml'"):
        present_query(store, catalog, "positions", [], "yaml")


def test_param_options():
    assert parse_param_options(["a=1", "b=x=y", "c="]) == {"a": "1", "b": "x=y", "c": ""}
    with pytest.raises(ParameterError, match="KEY=VALUE"):
        parse_param_options(["actor"])
    with pytest.raises(ParameterError, match="given twice"):
        parse_param_options(["a=1", "a=2"])


def test_listing(catalog):
    listing = present_catalog(catalog)
    assert "positions   Positions of an actor" in listing
    assert "--param actor=<iri>  (default pid:hamas)" in listing


def test_values_open_the_where_group_past_comments_iris_and_strings(tmp_path, store):
    query = load_query(write(tmp_path, "tricky", '#+ title: X\n#+ description: d { }\n'
                             '#+ param: s\n#+   type: iri\n#+   default: pid:hamas\n'
                             '# a comment with a { brace\n'
                             'PREFIX ex: <http://example.org/#>\n'
                             'SELECT ?s ("}{" AS ?b) (\'{\' AS ?c) (COUNT(?o) AS ?n) '
                             'WHERE { ?s ?p ?o } GROUP BY ?s ORDER BY ?s'))
    text = query_with_values(query, bind_parameters(query))
    assert f"WHERE {{ VALUES (?s) {{ (<{PID}hamas>) }} ?s ?p ?o }}" in text
    assert [(r["s"], r["n"]) for r in rows(store, query)] == [(PID + "hamas", 2)]
    assert [r["n"].value for r in run_query(store, text)] == ["2"]


def test_values_open_each_sub_select_that_projects_the_parameter(tmp_path, store):
    query = load_query(write(tmp_path, "nested", "#+ title: X\n#+ description: d\n"
                             "#+ param: s\n#+   type: iri\n#+   default: pid:hamas\n"
                             "SELECT ?s ?n WHERE {\n"
                             "  { SELECT ?s (COUNT(?o) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?s }\n"
                             "  { SELECT (MIN(?s) AS ?least) WHERE { ?s ?p ?o } }\n"
                             "  { SELECT * WHERE { ?x ?p ?o } LIMIT 1 }\n"
                             "} ORDER BY ?s"))
    text = query_with_values(query, bind_parameters(query))
    block = f"VALUES (?s) {{ (<{PID}hamas>) }}"
    assert f"WHERE {{ {block}\n  {{ SELECT ?s (COUNT(?o) AS ?n) WHERE {{ {block} ?s ?p ?o }}" in text
    assert f"SELECT (MIN(?s) AS ?least) WHERE {{ ?s ?p ?o }}" in text  # its ?s is its own
    assert f"SELECT * WHERE {{ {block} ?x ?p ?o }}" in text
    assert text.count("VALUES") == 3
    # The blocks mean what binding ?s everywhere it is projected means.
    assert [(r["s"], r["n"]) for r in rows(store, query)] == [(PID + "hamas", 2)]
    # A sub-select that makes the parameter with AS gets no block: binding it inside
    # would be a syntax error.
    made = with_leading_values("SELECT ?s WHERE { { SELECT (?o AS ?s) WHERE { ?x ?p ?o } } } ORDER BY ?s",
                               {"s": NamedNode(EX + "rejects-exile")})
    assert made.count("VALUES") == 1
    assert [r["s"] for r in run_query(store, made)] == [NamedNode(EX + "rejects-exile")]
