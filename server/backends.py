"""What answers the service's queries: the embedded store's executors or a remote SPARQL endpoint."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from parley.server.guard import QueryShape
from parley.server.negotiation import Format


@dataclass(frozen=True)
class Job:
    """One query the guard let through, with the serialization the client negotiated."""

    query: str
    base: str  # the endpoint URL: relative IRIs in the query resolve against it
    default_graphs: tuple[str, ...] | None  # the protocol dataset, None where not given
    named_graphs: tuple[str, ...] | None
    shape: QueryShape
    media: Format
    row_cap: int

    @property
    def protocol_dataset(self) -> bool:
        return self.default_graphs is not None or self.named_graphs is not None


@dataclass(frozen=True)
class Evaluation:
    body: bytes  # the answer in `Job.media`, at most `Job.row_cap` rows
    build: str  # identity of the data that answered; the answer's ETag is keyed by it
    truncated: bool


class Backend(Protocol):
    def build(self) -> str | None:
        """The identity of the data answering now, or None when only an answer can tell."""

    def evaluate(self, job: Job, timeout: float) -> Evaluation:
        """The answer to `job` within `timeout` seconds, or a ProtocolError saying why not."""

    def statistics(self) -> dict | None:
        """VoID numbers ({"default": {...}, "graphs": [...]}), None when they cannot be had."""

    def union_default_graph(self) -> bool:
        """Whether the default graph is the union of all named graphs."""

    def close(self) -> None:
        ...
