"""The application factory: one Flask app per worker process, configured from ServerSettings."""
from __future__ import annotations

import json

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from parley.server import api, description, protocol, ui
from parley.kg.catalog import load_catalog
from parley.server.cors import allow_cross_origin
from parley.server.errors import ProtocolError
from parley.server.service import QueryService
from parley.server.settings import ServerSettings, load_settings
from parley.server.warming import Warmer

# The read-only SPARQL service (each allows cross-origin use); the UI and the saved-query
# API register theirs after these.
BLUEPRINTS = (protocol.blueprint, description.blueprint)


def create_app(settings: ServerSettings | None = None) -> Flask:
    """A Flask app serving the store or remote backend in `settings` (default: PARLEY_* variables).

    Over the store it starts its own pool of executor processes; whoever made the app stops
    them with `app.extensions["parley.service"].close()` (gunicorn's worker_exit does; an
    executor whose worker died without it exits by itself).
    """
    settings = settings or load_settings()
    app = Flask(__name__)
    app.extensions["parley.settings"] = settings
    # Read once per app: the API, the service description and the UI share it.
    app.extensions["parley.catalog"] = api.checked_catalog(load_catalog(settings.queries))
    # Werkzeug enforces the body limit while reading forms; the protocol checks it too.
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body
    service = QueryService(settings)
    app.extensions["parley.service"] = service
    if settings.warm_cache and settings.cache_bytes and not settings.backend:
        # A remote backend names no build to key answers by, so there is nothing to warm.
        service.warmer = Warmer(service, app.extensions["parley.catalog"],
                                base=settings.endpoint_url)
        service.warmer.start()
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    app.register_blueprint(ui.bp)
    app.register_blueprint(api.blueprint)
    app.register_error_handler(ProtocolError, _protocol_error)
    app.register_error_handler(HTTPException, _http_error)
    app.after_request(allow_cross_origin)
    return app


def _protocol_error(error: ProtocolError) -> Response:
    return _error_response(error.status, error.message, error.headers)


def _http_error(error: HTTPException) -> Response:
    # Routing (404, 405), werkzeug's own body limit (413) and the 500 Flask makes of an
    # unhandled exception (already logged with its traceback by Flask) all end here.
    headers = dict(error.get_headers())
    headers.pop("Content-Type", None)
    message = error.description or error.name
    if error.code == 405:
        message = f"method {request.method} is not allowed here; use {headers.get('Allow', 'GET, POST')}"
    return _error_response(error.code or 500, message, headers)


def _error_response(status: int, message: str, headers: dict[str, str]) -> Response:
    wants = request.accept_mimetypes.best_match(["text/plain", "application/json",
                                                 "application/sparql-results+json"])
    if wants in ("application/json", "application/sparql-results+json"):
        body, content_type = json.dumps({"error": {"status": status, "message": message}}), "application/json"
    else:
        body, content_type = message + "\n", "text/plain; charset=utf-8"
    response = Response(body, status=status, content_type=content_type)
    response.headers.update(headers)
    return response
