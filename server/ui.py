"""The query UI: one blueprint of HTML pages (home, query, entities and sources, graph, ontology)."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from parley.server.errors import ProtocolError

from . import addressing, entities, graphview, home, ontologyview, workbench

# Scripts and styles come only from files of this server, so injected markup cannot run;
# data reaches scripts through data- attributes and JSON endpoints.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

bp = Blueprint("ui", __name__, template_folder="templates", static_folder="static",
               static_url_path="/assets")


@bp.after_request
def secure_headers(response):
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


@bp.errorhandler(HTTPException)
@bp.errorhandler(ProtocolError)
def error_page(error):
    """A refusal of a UI page as an HTML page for browsers; other clients get the app's answer.

    Blueprint handlers see only errors raised in the UI's own views (an unknown path has
    no blueprint), so /sparql and the API keep the app's plain-text and JSON errors.
    """
    if not _prefers_html():
        return _app_answer(error)
    if isinstance(error, ProtocolError):
        status, message, headers = error.status, error.message, error.headers
    else:
        headers = dict(error.get_headers())
        headers.pop("Content-Type", None)
        status, message = error.code or 500, error.description or error.name
    title = HTTP_STATUS_CODES.get(status, "Error")
    return render_template("ui/error.html", status=status, title=title,
                           message=message), status, headers


def _prefers_html() -> bool:
    # A browser lists text/html first; `*/*` (curl, fetch) is not a request for a page:
    # text/plain wins the tie because it is listed first.
    offered = ["text/plain", "application/json", "text/html"]
    return request.accept_mimetypes.best_match(offered) == "text/html"


def _app_answer(error):
    # What the app's own handler for this error (its class or the nearest base) answers,
    # so that the endpoint's error format has a single definition (in app.py).
    handlers = current_app.error_handler_spec[None][None]
    for cls in type(error).__mro__:
        if cls in handlers:
            return handlers[cls](error)
    if isinstance(error, HTTPException):
        return error
    raise error


bp.add_app_template_global(addressing.evidence_in_source)
bp.add_app_template_global(entities.format_links)

for _page in (home, workbench, entities, graphview, ontologyview):
    bp.register_blueprint(_page.bp)
