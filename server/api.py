"""The saved-query API: the catalog as JSON, each saved query run by id, and its OpenAPI 3.1 document."""
from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from flask import Blueprint, abort, current_app, jsonify, request, url_for

from parley.kg.catalog import Catalog, Parameter, SavedQuery
from parley.kg.errors import ParameterError, QueryError
from parley.kg.querying import bind_parameters
from parley.server.answers import respond
from parley.server.errors import BadRequest
from parley.server.negotiation import RESULTS
from parley.server.service import saved_query_request

blueprint = Blueprint("api", __name__)

# Query-string keys the endpoint reads itself, as /sparql does; no saved query may use them.
_RESERVED = ("format", "output")
_SCHEMA_TYPES = {
    "iri": {"type": "string", "description": "An absolute http(s) or urn IRI, or a CURIE "
                                             "with one of the project's prefixes (pid:hamas)."},
    "string": {"type": "string"},
    "integer": {"type": "integer"},
    "date": {"type": "string", "format": "date"},
    "boolean": {"type": "boolean"},
}


def checked_catalog(catalog: Catalog) -> Catalog:
    """`catalog`, once no saved query names a parameter as the API's own arguments."""
    for query in catalog:
        clash = [p.name for p in query.parameters if p.name in _RESERVED]
        if clash:
            raise QueryError(f"saved query '{query.id}' uses the reserved parameter name "
                             f"'{clash[0]}'")
    return catalog


def catalog() -> Catalog:
    return current_app.extensions["parley.catalog"]


@blueprint.get("/api/queries")
def list_queries():
    return jsonify({"queries": [_entry(query) for query in catalog()]})


@blueprint.get("/api/queries/<name>")
def run_query(name: str):
    try:
        saved = catalog().get(name)
    except QueryError as error:
        abort(404, str(error))
    values = {}
    for key in request.args:
        given = request.args.getlist(key)
        if len(given) > 1:
            raise BadRequest(f"parameter '{key}' is given {len(given)} times; give it once")
        if key not in _RESERVED:
            values[key] = given[0]
    try:
        bindings = bind_parameters(saved, values)
    except ParameterError as error:
        raise BadRequest(str(error)) from None
    return respond(saved_query_request(
        saved, bindings, base=url_for("protocol.sparql", _external=True),
        accept=request.headers.get("Accept"),
        format=request.args.get("format") or request.args.get("output"),
    ))


@blueprint.get("/api/openapi.json")
def openapi():
    return jsonify(openapi_document(catalog(), _package_version()))


def _entry(query: SavedQuery) -> dict:
    return {**query.describe(),
            "url": url_for("api.run_query", name=query.id, _external=True),
            "sparql": query.text}


def openapi_document(catalog: Catalog, api_version: str) -> dict:
    """An OpenAPI 3.1 description of the saved-query API, one operation per saved query."""
    paths = {
        "/api/queries": {"get": {
            "operationId": "listQueries",
            "summary": "The catalog of saved queries",
            "tags": ["catalog"],
            "responses": {"200": {
                "description": "Every saved query with its metadata, parameters and SPARQL text.",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Catalog"}}},
            }},
        }},
    }
    for query in catalog:
        paths[f"/api/queries/{query.id}"] = {"get": _operation(query)}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Parley saved queries",
            "version": api_version,
            "description": "Saved SPARQL queries over the Parley knowledge graph. Each answers "
                           "with SPARQL query results, negotiated like the /sparql endpoint: "
                           "by Accept header or the `format` parameter.",
        },
        "paths": paths,
        "components": {"schemas": _SCHEMAS, "responses": _ERROR_RESPONSES},
    }


def _operation(query: SavedQuery) -> dict:
    media = dict.fromkeys(f.media_type for f in RESULTS)
    content = {m: {"schema": {"$ref": "#/components/schemas/SparqlResults"}}
               if m.endswith("json") else {"schema": {"type": "string"}} for m in media}
    description = query.description if not query.question else f"{query.question}\n\n{query.description}"
    return {
        "operationId": _operation_id(query.id),
        "summary": query.title,
        "description": description,
        "tags": list(query.tags) or ["queries"],
        "parameters": [*(_parameter(p) for p in query.parameters), _FORMAT_PARAMETER],
        "responses": {
            "200": {"description": "The rows of the answer, in the query's order.", "content": content},
            "400": {"$ref": "#/components/responses/BadRequest"},
            "406": {"$ref": "#/components/responses/NotAcceptable"},
        },
    }


def _parameter(parameter: Parameter) -> dict:
    schema = dict(_SCHEMA_TYPES[parameter.type])
    if parameter.default is not None:
        schema["default"] = _typed(parameter, parameter.default)
    spec = {"name": parameter.name, "in": "query", "required": parameter.required,
            "description": parameter.description or f"A value of type {parameter.type}.",
            "schema": schema}
    if parameter.example is not None:
        spec["example"] = _typed(parameter, parameter.example)
    return spec


def _typed(parameter: Parameter, text: str):
    # Defaults and examples are written as text in the headers; JSON wants their type.
    if parameter.type == "integer":
        return int(text)
    if parameter.type == "boolean":
        return text == "true"
    return text


def _operation_id(query_id: str) -> str:
    head, *rest = query_id.split("-")
    return "run" + head.capitalize() + "".join(part.capitalize() for part in rest)


def _package_version() -> str:
    try:
        return version("parley")
    except PackageNotFoundError:
        return "0"


_FORMAT_PARAMETER = {
    "name": "format", "in": "query", "required": False,
    "description": "A shortcut for the Accept header, as on /sparql.",
    "schema": {"type": "string", "enum": [s for f in RESULTS for s in f.shorts]},
}

_ERROR = {"type": "object", "required": ["error"], "properties": {"error": {
    "type": "object", "required": ["status", "message"],
    "properties": {"status": {"type": "integer"}, "message": {"type": "string"}}}}}

_ERROR_RESPONSES = {
    "BadRequest": {
        "description": "A parameter is unknown, missing or not of its type; the message names it.",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}},
                    "text/plain": {"schema": {"type": "string"}}},
    },
    "NotAcceptable": {
        "description": "None of the accepted media types can carry query results.",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}},
                    "text/plain": {"schema": {"type": "string"}}},
    },
}

_TERM = {
    "type": "object", "required": ["type", "value"],
    "properties": {
        "type": {"enum": ["uri", "literal", "bnode", "triple"]},
        "value": {},
        "datatype": {"type": "string"},
        "xml:lang": {"type": "string"},
    },
}

_SCHEMAS = {
    "SparqlResults": {
        "description": "SPARQL 1.1 Query Results JSON Format (W3C).",
        "type": "object", "required": ["head", "results"],
        "properties": {
            "head": {"type": "object", "required": ["vars"],
                     "properties": {"vars": {"type": "array", "items": {"type": "string"}}}},
            "results": {"type": "object", "required": ["bindings"], "properties": {
                "bindings": {"type": "array", "items": {
                    "type": "object", "additionalProperties": {"$ref": "#/components/schemas/Term"}}}}},
        },
    },
    "Term": _TERM,
    "Error": _ERROR,
    "Parameter": {
        "type": "object", "required": ["name", "type", "required"],
        "properties": {
            "name": {"type": "string"},
            "type": {"enum": list(_SCHEMA_TYPES)},
            "required": {"type": "boolean"},
            "default": {"type": ["string", "null"]},
            "example": {"type": ["string", "null"]},
            "description": {"type": "string"},
        },
    },
    "Catalog": {
        "type": "object", "required": ["queries"],
        "properties": {"queries": {"type": "array", "items": {
            "type": "object",
            "required": ["id", "title", "description", "tags", "parameters", "url", "sparql"],
            "properties": {
                "id": {"type": "string", "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$"},
                "title": {"type": "string"},
                "question": {"type": ["string", "null"]},
                "description": {"type": "string"},
                "tags": {"type": "array", "items": {"type": "string"}},
                "parameters": {"type": "array", "items": {"$ref": "#/components/schemas/Parameter"}},
                "url": {"type": "string", "format": "uri"},
                "sparql": {"type": "string"},
            },
        }}},
    },
}
