"""Protocol errors: the client-facing failures of the endpoint, each with its HTTP status."""
from parley.kg.errors import KGError


class ProtocolError(KGError):
    """A request the endpoint refuses; `status` is the HTTP status, the message is for the client."""

    status = 400

    def __init__(self, message: str, *, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.headers = headers or {}


class BadRequest(ProtocolError):
    status = 400


class MalformedQuery(BadRequest):
    """The query does not parse (the parser's message and position are in the text)."""


class ReadOnly(BadRequest):
    """An update was sent to the read-only endpoint."""

    def __init__(self, detail: str = ""):
        message = "this endpoint is read-only: SPARQL Update is not accepted"
        super().__init__(f"{message} ({detail})" if detail else message)


class QueryRefused(BadRequest):
    """A well-formed query the endpoint will not run: too deeply nested, SERVICE outside the allowlist."""


class MethodNotAllowed(ProtocolError):
    status = 405


class NotAcceptable(ProtocolError):
    status = 406


class PayloadTooLarge(ProtocolError):
    status = 413


class UnsupportedMediaType(ProtocolError):
    status = 415


class QueryTimeout(ProtocolError):
    """The query ran past the time limit and its executor was stopped."""

    status = 503


class ResourcesExhausted(ProtocolError):
    """The query used up its executor's memory (or stack) and the executor died with it."""

    status = 503


class Unavailable(ProtocolError):
    """No executor or no store to answer with right now; the client may retry."""

    status = 503


class UpstreamError(ProtocolError):
    """A SERVICE endpoint in the allowlist, or the remote backend, failed or refused the query."""

    status = 502


class GatewayTimeout(ProtocolError):
    """The remote SPARQL backend did not answer in time."""

    status = 504
