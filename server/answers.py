"""The one HTTP response path for query answers (/sparql and /api/queries): revalidation and headers."""
from __future__ import annotations

from flask import Response, current_app, request, url_for

from parley.server.service import QueryRequest, QueryService


def respond(query: QueryRequest) -> Response:
    """The answer to `query`, or 304 when the client's `If-None-Match` holds its ETag.

    With the embedded store the ETag is known before the query runs (it is keyed by the
    build), so a current tag costs no evaluation. A remote backend's answers are tagged by
    their content: the query runs, but an unchanged answer still travels as a 304.
    """
    service: QueryService = current_app.extensions["parley.service"]
    if request.if_none_match:
        _, _, etag = service.current_etag(query)
        if etag is not None and request.if_none_match.contains_weak(etag.strip('"')):
            return _not_modified(etag)
    outcome = service.answer(query)
    answer = outcome.answer
    if request.if_none_match and request.if_none_match.contains_weak(answer.etag.strip('"')):
        return _not_modified(answer.etag)
    response = Response(answer.body, content_type=answer.content_type)
    _validators(response, answer.etag)
    response.headers["X-Parley-Cache"] = "hit" if outcome.cached else "miss"
    if answer.truncated:
        response.headers["X-Parley-Truncated"] = str(service.settings.row_cap)
        response.headers["Link"] = (f'<{url_for("protocol.sparql")}>; rel="describedby"; '
                                    'title="row cap, see X-Parley-Truncated"')
    return response


def _not_modified(etag: str) -> Response:
    response = Response(status=304)
    _validators(response, etag)
    return response


def _validators(response: Response, etag: str) -> None:
    response.headers["ETag"] = etag
    # Clients may keep answers but must revalidate: a new build changes them.
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Vary"] = "Accept"
