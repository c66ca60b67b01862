"""The query UI: one blueprint of HTML pages (home, query, entities and sources, graph, ontology)."""
from __future__ import annotations

from flask import Blueprint

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


bp.add_app_template_global(addressing.evidence_in_source)

for _page in (home, workbench, entities, graphview, ontologyview):
    bp.register_blueprint(_page.bp)
