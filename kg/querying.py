"""Running saved and ad-hoc SPARQL queries on a store, with parameters bound as RDF terms."""
from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from pyoxigraph import (BlankNode, DefaultGraph, Literal, NamedNode, QueryBoolean, QueryResultsFormat,
                        QuerySolutions, QueryTriples, Store, Variable)

from parley.kg.catalog import Catalog, SavedQuery, load_catalog
from parley.kg.errors import ParameterError, QueryError
from parley.kg.namespaces import BUILD_GRAPH, XSD
from parley.kg.store import open_read_only

Term = NamedNode | BlankNode | Literal

# The serialisations pyoxigraph writes itself; `table` (for people) lives in presenting.
RESULT_FORMATS = {
    "json": QueryResultsFormat.JSON,
    "xml": QueryResultsFormat.XML,
    "csv": QueryResultsFormat.CSV,
    "tsv": QueryResultsFormat.TSV,
}

# XSD datatypes whose literals become Python ints and floats (here and in parley.kg.client).
INTEGER_TYPES = frozenset({XSD + t for t in (
    "integer", "int", "long", "short", "byte", "nonNegativeInteger", "positiveInteger",
    "nonPositiveInteger", "negativeInteger", "unsignedLong", "unsignedInt",
    "unsignedShort", "unsignedByte")})
FLOAT_TYPES = frozenset({XSD + "decimal", XSD + "double", XSD + "float"})

# Enough of the SPARQL lexer to find the `{` that opens each SELECT's group and what each
# SELECT projects: comments, IRIs and strings may contain braces, parentheses and words,
# and a CONSTRUCT template is a group of its own before the keyword WHERE.
_TOKENS = re.compile(r"""#[^\n]*|<[^<>"{}|^`\\\x00-\x20]*>|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'"""
                     r"""|[{}()*]|[?$][\w\u00B7\u0300-\u036F\u203F-\u2040]+"""
                     r"""|(?<![\w?$:])(?:CONSTRUCT|WHERE|SELECT|AS)(?![\w:-])""", re.IGNORECASE)


def bind_parameters(query: SavedQuery, values: Mapping[str, object] | None = None
                    ) -> dict[str, Term]:
    """Each parameter of `query` as a validated RDF term: the given value or the default."""
    values = dict(values or {})
    for name in values:
        query.parameter(name)  # raises for a name the query does not declare
    bindings = {}
    for parameter in query.parameters:
        if parameter.name in values:
            value = values[parameter.name]
        elif parameter.default is not None:
            value = parameter.default
        else:
            raise ParameterError(f"parameter '{parameter.name}' of saved query "
                                 f"'{query.id}' is required ({parameter.type})")
        bindings[parameter.name] = parameter.to_term(value)
    return bindings


def substitutions(bindings: Mapping[str, Term]) -> dict[Variable, Term]:
    """The bindings in the form `Store.query(substitutions=...)` takes."""
    return {Variable(name): term for name, term in bindings.items()}


def values_clause(bindings: Mapping[str, Term]) -> str:
    """A SPARQL `VALUES` block holding the bindings, for endpoints without substitutions.

    The terms were validated when they were built, and pyoxigraph writes them in
    N-Triples syntax with every quote and control character escaped, so the block
    cannot change the shape of the query it is appended to.
    """
    if not bindings:
        return ""
    names = " ".join(f"?{name}" for name in bindings)
    terms = " ".join(str(term) for term in bindings.values())
    return f"VALUES ({names}) {{ ({terms}) }}"


def query_with_values(query: SavedQuery, bindings: Mapping[str, Term]) -> str:
    """The saved query's text with its bindings as `VALUES` opening the WHERE group."""
    return with_leading_values(query.text, bindings, f"saved query '{query.id}'")


def with_leading_values(text: str, bindings: Mapping[str, Term], what: str = "the query") -> str:
    """`text` with the bindings as `VALUES` blocks opening its WHERE group and its sub-selects.

    This is how every saved query takes its parameters (the library, the HTTP API, remote
    endpoints): one binding, one query plan. A block goes first in the outermost group
    rather than after the query: a trailing VALUES joins only after the group's FILTERs
    ran, so `FILTER (?on >= ?since)` would see `?since` unbound. Placed first, it binds
    every use of the parameter at the top level of the group, which is what a
    substitution does there. A sub-select is evaluated on its own before it joins, so a
    sub-select that projects a parameter (by name or `*`) opens with the block of
    those parameters too: it starts from the bound value instead of computing its
    answer for every value and dropping all but one (docs/queries.md asks saved queries
    to use parameters only in these places or in triple patterns; a test holds every
    saved query to it, and to giving the substitution's answer).
    """
    if not bindings:
        return text
    tokens = list(_TOKENS.finditer(text))
    insertions: list[tuple[int, str]] = []
    construct = False
    outer_done = False
    for index, token in enumerate(tokens):
        word = token.group().upper()
        if word == "CONSTRUCT":
            construct = True  # its template's `{` comes first; the group follows WHERE
        elif word == "WHERE":
            construct = False
        elif word == "{" and not construct and not outer_done:
            insertions.append((token.end(), values_clause(bindings)))
            outer_done = True
        elif word == "SELECT" and outer_done:
            opening, projected = _sub_select(tokens, index)
            bound = {name: term for name, term in bindings.items()
                     if "*" in projected or name in projected}
            if opening is not None and bound:
                insertions.append((opening, values_clause(bound)))
    if not outer_done:
        raise QueryError(f"{what} has no group pattern to bind values in")
    for at, block in sorted(insertions, reverse=True):
        text = f"{text[:at]} {block}{text[at:]}"
    return text


def _sub_select(tokens: list[re.Match], index: int) -> tuple[int | None, set[str]]:
    """Where the group of the sub-select at tokens[index] opens, and the names it projects.

    Only plain projections and `*` count: a variable projected `AS ?name` from an
    expression must not be bound inside the group (that would be a syntax error).
    """
    projected: set[str] = set()
    depth = 0
    for token in tokens[index + 1:]:
        word = token.group()
        if word == "(":
            depth += 1
        elif word == ")":
            depth -= 1
        elif word == "{" and depth == 0:
            return token.end(), projected
        elif word == "*" and depth == 0:
            projected.add("*")
        elif word[0] in "?$" and depth == 0:
            projected.add(word[1:])
    return None, projected


def needs_union_view(store: Store) -> bool:
    """Whether the default graph must be pyoxigraph's union view for queries to see the data.

    A build writes the union of its named graphs into the default graph: a set, as
    SPARQL's RDF merge is. pyoxigraph's own union view is a bag (a triple stated in k
    graphs matches k times, and joins over shared nodes multiply), so it serves only
    stores that are not such builds: older builds (no default graph) and stores made by
    other tools (no build graph), whatever their default graph holds.
    """
    built = store.contains_named_graph(BUILD_GRAPH)
    return not (built and next(iter(store.quads_for_pattern(None, None, None, DefaultGraph())), None))


def run_query(store: Store, text: str, *, bindings: Mapping[str, Term] | None = None
              ) -> QuerySolutions | QueryBoolean | QueryTriples:
    """Evaluate SPARQL over the union of the store's graphs, as the endpoint does."""
    try:
        return store.query(text, use_default_graph_as_union=needs_union_view(store),
                           substitutions=substitutions(bindings or {}))
    except SyntaxError as error:
        raise QueryError(f"the query cannot be parsed: {error}") from None
    except RuntimeError as error:
        # pyoxigraph refuses to substitute a variable that is not projected.
        raise QueryError(f"the query cannot take its parameters: {error}") from None


def run_saved_query(store: Store, query: str | SavedQuery,
                    params: Mapping[str, object] | None = None, *,
                    catalog: Catalog | None = None) -> QuerySolutions:
    """Rows of a saved query (by id or object) with `params` bound as terms.

    The terms are bound by VALUES blocks, as over HTTP (see with_leading_values), so a
    saved query is planned the same way whichever way it is asked.
    """
    saved = query if isinstance(query, SavedQuery) else (catalog or load_catalog()).get(query)
    results = run_query(store, query_with_values(saved, bind_parameters(saved, params)))
    if not isinstance(results, QuerySolutions):
        raise QueryError(f"saved query '{saved.id}' is not a SELECT query")
    return results


def serialize_results(results: QuerySolutions, fmt: str) -> bytes:
    try:
        return results.serialize(format=RESULT_FORMATS[fmt])
    except KeyError:
        raise QueryError(f"unknown result format '{fmt}' "
                         f"(one of: {', '.join(RESULT_FORMATS)})") from None


def term_value(term: Term | None) -> object:
    """The plain Python value of a term: IRIs and most literals as text, numbers as numbers."""
    if term is None:
        return None
    if isinstance(term, BlankNode):
        return f"_:{term.value}"
    if isinstance(term, Literal):
        datatype = term.datatype.value
        if datatype in INTEGER_TYPES:
            return int(term.value)
        if datatype in FLOAT_TYPES:
            return float(term.value)
        if datatype == XSD + "boolean":
            return term.value in ("true", "1")
    # Dates stay ISO text: the data mixes xsd:date, gYearMonth and gYear, which sort as text.
    return term.value


def rows(store: Store | str | os.PathLike, query: str | SavedQuery,
         params: Mapping[str, object] | None = None, /, *, catalog: Catalog | None = None,
         **kwparams) -> list[dict[str, object]]:
    """A saved query's answer as a list of {variable: Python value} (for notebooks).

    `rows(store, "positions", actor="pid:hamas")`; `store` is a `Store` or a store folder.
    """
    if not isinstance(store, Store):
        store = open_read_only(Path(store))
    results = run_saved_query(store, query, {**(params or {}), **kwparams}, catalog=catalog)
    names = [v.value for v in results.variables]
    return [{name: term_value(solution[name]) for name in names} for solution in results]


def dataframe(store: Store | str | os.PathLike, query: str | SavedQuery,
              params: Mapping[str, object] | None = None, /, *,
              catalog: Catalog | None = None, **kwparams):
    """A saved query's answer as a pandas DataFrame, one column per projected variable."""
    import pandas  # a notebook extra, not a dependency of the library

    if not isinstance(store, Store):
        store = open_read_only(Path(store))
    results = run_saved_query(store, query, {**(params or {}), **kwparams}, catalog=catalog)
    names = [v.value for v in results.variables]
    records = [[term_value(solution[name]) for name in names] for solution in results]
    return pandas.DataFrame.from_records(records, columns=names)
