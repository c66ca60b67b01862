"""The /sparql endpoint: the SPARQL 1.1 Protocol query operation, read-only."""
from __future__ import annotations

from urllib.parse import parse_qsl

from flask import Blueprint, current_app, request
from pyoxigraph import NamedNode

from parley.server import description
from parley.server.answers import respond
from parley.server.errors import BadRequest, PayloadTooLarge, ReadOnly, UnsupportedMediaType
from parley.server.service import QueryRequest, QueryService

blueprint = Blueprint("protocol", __name__)

FORM = "application/x-www-form-urlencoded"
DIRECT = "application/sparql-query"
UPDATE = "application/sparql-update"


def query_service() -> QueryService:
    return current_app.extensions["parley.service"]


@blueprint.route("/sparql", methods=["GET", "POST"])
def sparql():
    settings = query_service().settings
    params = _parameters(request.query_string, settings.max_body, "the query string")
    if request.method == "POST":
        params += _body_parameters(settings.max_body)
    values = _collect(params)
    if "update" in values or "using-graph-uri" in values or "using-named-graph-uri" in values:
        raise ReadOnly("the update parameter")
    queries = values.get("query", [])
    if len(queries) > 1:
        if request.method == "POST" and request.mimetype == DIRECT:
            raise BadRequest("the query came both as the body and as the URL's query parameter; send it once")
        raise BadRequest(f"exactly one query parameter is allowed, got {len(queries)}")
    if not queries:
        if request.method == "GET":
            return description.service_description()
        raise BadRequest("the request has no query: send it as the body (application/sparql-query) "
                         "or as the query parameter")
    # A byte order mark some editors put first is not part of the query.
    query = queries[0].removeprefix("\ufeff")
    if not query.strip():
        raise BadRequest("the query is empty")
    query_request = QueryRequest(
        query=query,
        base=request.base_url,
        default_graphs=_graphs(values, "default-graph-uri"),
        named_graphs=_graphs(values, "named-graph-uri"),
        accept=request.headers.get("Accept"),
        format=(values.get("format") or values.get("output") or [None])[0],
    )
    return respond(query_request)


def _parameters(raw: bytes, limit: int, where: str) -> list[tuple[str, str]]:
    """Strictly decoded parameters: a URL-encoded string that is not UTF-8 is the client's error."""
    if len(raw) > limit:
        raise PayloadTooLarge(f"{where} is {len(raw)} bytes; the limit is {limit} bytes")
    try:
        return parse_qsl(raw.decode("ascii"), keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise BadRequest(f"{where} is not valid URL-encoded UTF-8") from None


def _body_parameters(limit: int) -> list[tuple[str, str]]:
    mimetype = request.mimetype
    if mimetype == UPDATE:
        raise ReadOnly(UPDATE)
    if mimetype not in (FORM, DIRECT):
        sent = f"Content-Type {mimetype}" if mimetype else "no Content-Type"
        raise UnsupportedMediaType(f"a POST query needs Content-Type {DIRECT} or {FORM}; got {sent}")
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"the body is {request.content_length} bytes; the limit is {limit} bytes")
    body = request.stream.read(limit + 1)
    if len(body) > limit:
        raise PayloadTooLarge(f"the body is larger than the limit of {limit} bytes")
    if mimetype == FORM:
        return _parameters(body, limit, "the form body")
    charset = request.mimetype_params.get("charset", "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        raise BadRequest(f"the query must be UTF-8 encoded; got charset={charset}")
    try:
        return [("query", body.decode("utf-8"))]
    except UnicodeDecodeError as error:
        raise BadRequest(f"the query is not valid UTF-8 (byte {error.start})") from None


def _collect(params: list[tuple[str, str]]) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for name, value in params:
        values.setdefault(name, []).append(value)
    return values


def _graphs(values: dict[str, list[str]], name: str) -> tuple[str, ...] | None:
    if name not in values:
        return None
    for iri in values[name]:
        try:
            NamedNode(iri)
        except ValueError as error:
            raise BadRequest(f"{name} {iri!r} is not an absolute IRI: {error}") from None
    return tuple(values[name])
