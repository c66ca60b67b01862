"""Cross-origin access for the read-only endpoints, so notebooks and web pages can query them."""
from __future__ import annotations

from flask import Response, current_app, request

EXPOSED = "ETag, X-Parley-Truncated, X-Parley-Cache, Link, Retry-After"


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
