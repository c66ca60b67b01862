"""The query page: a SPARQL editor, the saved-query catalog with forms, results and downloads."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from flask import Blueprint, Response, abort, current_app, jsonify, request, url_for
from pyoxigraph import QueryBoolean

from parley.kg.catalog import SavedQuery
from parley.kg.errors import KGError, QueryError
from parley.kg.namespaces import PREFIXES
from parley.kg.querying import bind_parameters

from .reading import catalog, error_position, graph, render_page

bp = Blueprint("workbench", __name__)

# A page stays readable and fast; the downloads carry every row.
ROW_LIMIT = 1000

_STARTER = """PREFIX parley: <https://w3id.org/parley/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?actor ?label WHERE {
  ?actor a parley:Actor ; rdfs:label ?label .
} ORDER BY ?label
"""

_VOCABULARY = """
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
SELECT DISTINCT ?term ?kind WHERE {
  ?term a ?type
  VALUES (?type ?kind) {
    (owl:Class "class") (rdfs:Class "class")
    (owl:ObjectProperty "property") (owl:DatatypeProperty "property")
    (owl:AnnotationProperty "property") (rdf:Property "property")
  }
  FILTER isIRI(?term)
} ORDER BY ?kind ?term
"""

_DOWNLOADS = {
    "select": (("csv", "CSV"), ("json", "JSON")),
    "ask": (("json", "JSON"),),
    "graph": (("ttl", "Turtle"), ("nt", "N-Triples")),
}
_MIMETYPES = {"csv": "text/csv", "json": "application/sparql-results+json",
              "ttl": "text/turtle", "nt": "application/n-triples"}
# The endpoint's `format=` names of each download.
_SHORT_NAMES = {"csv": "csv", "json": "json", "ttl": "turtle", "nt": "ntriples"}


@dataclass
class Run:
    """One evaluated query as the page shows it."""

    kind: str                     # "select", "ask" or "graph"
    variables: list[str] = field(default_factory=list)
    rows: list[dict] = field(default_factory=list)
    truncated: bool = False       # the page shows ROW_LIMIT of the rows
    capped: bool = False          # the server's row cap cut the answer, downloads included
    boolean: bool | None = None
    milliseconds: float = 0.0


@bp.get("/query")
def page():
    saved, text, values, error = _requested()
    run = None
    if error is None and text is not None:
        try:
            run = _evaluate(text, saved, values)
        except KGError as failure:
            error = failure
    position = error_position(str(error)) if error else None
    terms = [t for row in (run.rows if run else []) for t in row.values() if t is not None]
    return render_page(
        "ui/query.html", terms=terms, text=text if text is not None else _STARTER,
        saved=saved, values=values, run=run, error=str(error) if error else None,
        position=position, catalog=catalog(), downloads=_download_links(run, saved, text, values),
        row_limit=ROW_LIMIT, row_cap=current_app.extensions["parley.settings"].row_cap)


@bp.get("/query/results.<any(csv, json, ttl, nt):fmt>")
def download(fmt: str):
    saved, text, values, error = _requested()
    if error is not None:
        abort(400, str(error))
    if text is None:
        abort(400, "give a query (query=...) or a saved query (saved=...)")
    try:
        body = graph().serialize(text, _bindings(saved, values), _SHORT_NAMES[fmt])
    except KGError as failure:
        abort(400, str(failure))
    mimetype = _MIMETYPES[fmt]
    name = f"{saved.id if saved else 'query'}-results.{fmt}"
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/query/vocabulary.json")
def vocabulary():
    """What the editor completes: the project's prefixes and the ontology's terms."""
    terms = graph().select(_VOCABULARY)
    return jsonify({
        "prefixes": PREFIXES,
        "classes": [r["term"].value for r in terms if r["kind"].value == "class"],
        "properties": [r["term"].value for r in terms if r["kind"].value == "property"],
    })


def _requested() -> tuple[SavedQuery | None, str | None, dict[str, str], KGError | None]:
    """The saved query (by `saved=`) or the text (`query=`) and the parameter values."""
    args = request.args
    values = {k: v for k, v in args.items() if k not in ("saved", "query") and v != ""}
    if "saved" in args:
        try:
            saved = catalog().get(args["saved"])
        except QueryError as error:
            return None, args.get("query"), {}, error
        # An edited saved query runs as its edited text, with the same parameters.
        return saved, args.get("query", saved.text), values, None
    return None, args.get("query"), {}, None


def _bindings(saved: SavedQuery | None, values: dict[str, str]) -> dict:
    return bind_parameters(saved, values) if saved is not None else {}


def _evaluate(text: str, saved: SavedQuery | None, values: dict[str, str]) -> Run:
    started = time.perf_counter()
    results, capped = graph().evaluate(text, _bindings(saved, values))
    if isinstance(results, QueryBoolean):
        run = Run("ask", boolean=bool(results))
    elif isinstance(results, list):
        run = Run("graph", variables=["subject", "predicate", "object"])
        for triple in results:
            if len(run.rows) == ROW_LIMIT:
                run.truncated = True
                break
            run.rows.append({"subject": triple.subject, "predicate": triple.predicate,
                             "object": triple.object})
    else:
        run = Run("select", variables=[v.value for v in results.variables])
        for solution in results:
            if len(run.rows) == ROW_LIMIT:
                run.truncated = True
                break
            run.rows.append({name: solution[name] for name in run.variables})
    run.capped = capped
    run.milliseconds = (time.perf_counter() - started) * 1000
    return run


def _download_links(run: Run | None, saved: SavedQuery | None, text: str | None,
                    values: dict[str, str]) -> list[tuple[str, str]]:
    if run is None:
        return []
    args = {"saved": saved.id, **values} if saved is not None else {}
    if saved is None or text != saved.text:
        args["query"] = text
    return [(label, url_for(".download", fmt=fmt, **args)) for fmt, label in _DOWNLOADS[run.kind]]
