"""Cross-origin access for the read-only endpoints, so notebooks and web pages can query them."""
from __future__ import annotations

from flask import Response, current_app, request

EXPOSED = "ETag, X-Parley-Truncated, X-Parley-Cache, Link, Retry-After"
# The read-only endpoints: the protocol, the VoID description and the saved-query API (the
# UI's pages stay same-origin).
CROSS_ORIGIN_PATHS = ("/sparql", "/.well-known/void")
CROSS_ORIGIN_PREFIX = "/api/"


def allow_cross_origin(response: Response) -> Response:
    """An app-wide after-request hook, by path rather than by blueprint, so that routing
    errors (a 405 on /sparql, which no blueprint sees) carry the headers too: without them
    a browser tool reports a CORS failure instead of the message."""
    if request.path not in CROSS_ORIGIN_PATHS and not request.path.startswith(CROSS_ORIGIN_PREFIX):
        return response
    origins = current_app.extensions["parley.service"].settings.cors_origins
    origin = request.headers.get("Origin")
    if not origins:
        return response
    if "*" in origins:
        response.headers["Access-Control-Allow-Origin"] = "*"
    elif origin in origins:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.vary.add("Origin")
    else:
        return response
    response.headers["Access-Control-Expose-Headers"] = EXPOSED
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Accept, Content-Type, If-None-Match"
        response.headers["Access-Control-Max-Age"] = "86400"
    return response

