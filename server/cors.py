"""Cross-origin access for the read-only endpoints, so notebooks and web pages can query them."""
from __future__ import annotations

from flask import Response, current_app, request

EXPOSED = "ETag, X-Parley-Truncated, X-Parley-Cache, Link, Retry-After"
# Where the blueprints that call allow_cross_origin are mounted.
CROSS_ORIGIN_PATHS = ("/sparql", "/api/", "/.well-known/void")


def allow_cross_origin(response: Response) -> Response:
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


def allow_cross_origin_on_routing_errors(response: Response) -> Response:
    """The same headers on a routing error (405 on /sparql), which no blueprint's hook sees.

    Without them a browser tool reports a CORS failure instead of the 405's message.
    """
    if request.routing_exception is not None and request.path.startswith(CROSS_ORIGIN_PATHS):
        return allow_cross_origin(response)
    return response
