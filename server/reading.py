"""Read-only access of the UI pages to the served graph, its labels and the saved queries."""
from __future__ import annotations

import re
import time
from dataclasses import dataclass

from flask import current_app, render_template, request
from pyoxigraph import (QueryResultsFormat, QuerySolutions, RdfFormat, parse,
                        parse_query_results)

from parley.kg.catalog import Catalog
from parley.kg.errors import QueryError
from parley.kg.querying import with_leading_values
from parley.server.caching import Answer
from parley.server.service import QueryRequest

from .labels import fetch_labels

# pyoxigraph reports the position of a syntax error only in the message text.
_ERROR_POSITION = re.compile(r"error at (\d+):(\d+)")


@dataclass(frozen=True)
class Results:
    """The rows of one SELECT with the variables in projection order and the time taken."""

    variables: list[str]
    rows: list[dict]
    seconds: float


class Graph:
    """The UI's queries, run like every query of the server: through its guard and executors.

    Bindings travel as a VALUES block of serialised terms opening the WHERE group, as the
    API binds saved queries (the executors take query text only); each term was validated
    when it was built, so it cannot change the query.
    """

    def __init__(self, service):
        self.service = service

    def query(self, sparql: str, bindings: dict | None = None):
        """Solutions (SELECT), a QueryBoolean (ASK) or a list of triples (CONSTRUCT, DESCRIBE)."""
        return self.evaluate(sparql, bindings)[0]

    def evaluate(self, sparql: str, bindings: dict | None = None) -> tuple[object, bool]:
        """The answer as `query` gives it, and whether the server's row cap cut it short."""
        text = with_leading_values(sparql, bindings or {})
        graph_form = self.service.shape(text).returns_graph
        answer = self._answer(text, "ntriples" if graph_form else "json")
        if graph_form:
            return [quad.triple for quad in parse(answer.body, format=RdfFormat.N_TRIPLES)], answer.truncated
        return parse_query_results(answer.body, format=QueryResultsFormat.JSON), answer.truncated

    def serialize(self, sparql: str, bindings: dict | None, fmt: str) -> bytes:
        """The answer as the endpoint writes it in `fmt` (its `format=` names)."""
        return self._answer(with_leading_values(sparql, bindings or {}), fmt).body

    def _answer(self, text: str, fmt: str) -> Answer:
        return self.service.answer(QueryRequest(
            query=text, base=request.base_url, default_graphs=None, named_graphs=None,
            accept=None, format=fmt)).answer

    def select(self, sparql: str, **bindings) -> list[dict]:
        return self.run(sparql, bindings).rows

    def run(self, sparql: str, bindings: dict | None = None) -> Results:
        started = time.perf_counter()
        solutions = self.query(sparql, bindings)
        if not isinstance(solutions, QuerySolutions):
            raise QueryError("this page shows SELECT results only")
        variables = [v.value for v in solutions.variables]
        rows = [{name: solution[name] for name in variables} for solution in solutions]
        return Results(variables, rows, time.perf_counter() - started)


def error_position(message: str) -> tuple[int, int] | None:
    """(line, column) of a SPARQL syntax error, both counted from 1."""
    match = _ERROR_POSITION.search(message)
    return (int(match[1]), int(match[2])) if match else None


def graph() -> Graph:
    return Graph(current_app.extensions["parley.service"])


def catalog() -> Catalog:
    return current_app.extensions["parley.catalog"]


def render_page(template: str, *, terms=(), **context) -> str:
    """Render with the labels of every IRI in `terms` fetched in one query."""
    return render_template(template, labels=fetch_labels(graph(), terms), **context)


