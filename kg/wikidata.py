"""Wikidata as a candidate source: the hand-verified extract offline, a SPARQL endpoint online."""
from __future__ import annotations

import email.utils
import hashlib
import json
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from pathlib import Path

import requests
from pyoxigraph import Literal, Quad, RdfFormat, Store, parse

from .errors import DataError, KGError
from .namespaces import PARLEY, RDFS, SKOS, WIKIDATA_GRAPH
from .reconciliation import WD, Candidate, Entity

SCHEMA = "http://schema.org/"
WDT = "http://www.wikidata.org/prop/direct/"
P31 = WDT + "P31"

METHOD_OFFLINE = PARLEY + "OfflineExtract"
METHOD_ONLINE = PARLEY + "OnlineQuery"

DEFAULT_USER_AGENT = ("Parley/0.1 (knowledge-graph builder; links negotiation actors to "
                      "Wikidata; https://w3id.org/parley) python-requests")
DEFAULT_ENDPOINT = "https://query.wikidata.org/sparql"


class WikidataUnavailable(KGError):
    """The Wikidata endpoint could not answer (down, refused, rate-limited too long)."""


def extract_quads(path: str | os.PathLike) -> list[Quad]:
    """The extract's triples, in the wikidata named graph."""
    try:
        return [Quad(q.subject, q.predicate, q.object, WIKIDATA_GRAPH)
                for q in parse(path=path, format=RdfFormat.TURTLE, rename_blank_nodes=True)]
    except SyntaxError as error:
        raise DataError(f"syntax error: {error.msg}", path=path, line=error.lineno,
                        col=error.offset) from None


class OfflineCandidates:
    """Every item of the hand-verified extract is a candidate for every entity."""

    method = METHOD_OFFLINE

    def __init__(self, extract_path: str | os.PathLike):
        self.path = Path(extract_path)
        store = Store()
        store.extend(extract_quads(self.path))
        rows = store.query(CANDIDATES_QUERY.replace("#VALUES", ""), use_default_graph_as_union=True)
        self.candidates = candidates_from_rows(
            {name: row[name].value for name in VARIABLES if row[name] is not None}
            for row in rows)

    def candidates_for(self, entity: Entity) -> list[Candidate]:
        return self.candidates


class OnlineCandidates:
    """Candidates from a SPARQL endpoint by exact English label or alias, cached on disk.

    Wikidata's label index matches exact strings, so each entity is looked up under a few
    spellings of each of its names; the scorer then judges the items found.
    """

    method = METHOD_ONLINE

    def __init__(self, endpoint_url: str, cache_dir: str | os.PathLike,
                 user_agent: str = DEFAULT_USER_AGENT, timeout: float = 10.0,
                 retries: int = 3, *, backoff: float = 1.0, max_wait: float = 60.0,
                 sleep: Callable[[float], None] = time.sleep,
                 session: requests.Session | None = None):
        self.endpoint_url = endpoint_url
        self.cache_dir = Path(cache_dir)
        self.timeout, self.retries = timeout, retries
        self.backoff, self.max_wait = backoff, max_wait
        self.sleep = sleep
        self.session = session or requests.Session()
        self.session.headers.update({"User-Agent": user_agent,
                                     "Accept": "application/sparql-results+json"})

    def candidates_for(self, entity: Entity) -> list[Candidate]:
        names = sorted({variant for label in entity.labels for variant in spellings(label)})
        if not names:
            return []
        values = "VALUES ?name { " + " ".join(str(Literal(n, language="en")) for n in names) + " }"
        answer = self.ask(CANDIDATES_QUERY.replace("#VALUES", values))
        return candidates_from_rows(
            {name: cell["value"] for name, cell in binding.items()}
            for binding in answer["results"]["bindings"])

    def ask(self, query: str) -> dict:
        """The endpoint's JSON answer to a query, from the cache when it has been asked."""
        key = hashlib.sha256(f"{self.endpoint_url}\n{query}".encode()).hexdigest()
        cached = self.cache_dir / f"{key}.json"
        if cached.is_file():
            return json.loads(cached.read_text(encoding="utf-8"))["answer"]
        answer = self._fetch(query)
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        # Written whole or not at all, so an interrupted build never leaves a torn entry.
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=self.cache_dir,
                                         suffix=".tmp", delete=False) as handle:
            json.dump({"endpoint": self.endpoint_url, "query": query, "answer": answer}, handle)
        os.replace(handle.name, cached)
        return answer

    def _fetch(self, query: str) -> dict:
        problem = ""
        for attempt in range(self.retries + 1):
            wait = self.backoff * 2 ** attempt
            try:
                response = self.session.get(self.endpoint_url, params={"query": query},
                                            timeout=self.timeout)
            except (requests.ConnectionError, requests.Timeout) as error:
                problem = f"cannot reach {self.endpoint_url}: {type(error).__name__}"
            else:
                if response.status_code == 200:
                    try:
                        return response.json()
                    except ValueError:
                        raise WikidataUnavailable(
                            f"{self.endpoint_url} did not answer with SPARQL JSON") from None
                problem = f"{self.endpoint_url} answered HTTP {response.status_code}"
                if response.status_code in (429, 503):
                    asked = retry_after(response.headers.get("Retry-After"))
                    if asked is not None:
                        if asked > self.max_wait:
                            raise WikidataUnavailable(
                                f"{problem} and asks to wait {asked:.0f} s (more than "
                                f"{self.max_wait:.0f} s); try again later")
                        wait = asked
                elif response.status_code < 500:
                    raise WikidataUnavailable(f"{problem}: {response.text[:200]}")
            if attempt < self.retries:
                self.sleep(wait)
        raise WikidataUnavailable(f"{problem} (after {self.retries + 1} attempts)")


def retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def spellings(label: str) -> set[str]:
    """The ways Wikidata may write a name: as is, without "the", acronyms without dots."""
    variants = {label.strip()}
    variants |= {re.sub(r"^the\s+", "", v, flags=re.I) for v in list(variants)}
    variants |= {re.sub(r"\b((?:[A-Za-z]\.){2,})", lambda m: m.group(1).replace(".", ""), v)
                 for v in list(variants)}
    return {v for v in variants if v}


VARIABLES = ("item", "label", "alias", "description", "class")
# Wikidata's own vocabulary, so the same query runs on query.wikidata.org and on an
# endpoint loaded with the extract. "#VALUES" is replaced by the names looked up (as
# escaped RDF literals) or by nothing for the whole extract.
CANDIDATES_QUERY = f"""
PREFIX rdfs: <{RDFS}>
PREFIX skos: <{SKOS}>
PREFIX schema: <{SCHEMA}>
PREFIX wdt: <{WDT}>
SELECT ?item ?label ?alias ?description ?class WHERE {{
  #VALUES
  {{ ?item rdfs:label ?name }} UNION {{ ?item skos:altLabel ?name }}
  FILTER(STRSTARTS(STR(?item), "{WD}Q"))
  OPTIONAL {{ ?item rdfs:label ?label FILTER(LANGMATCHES(LANG(?label), "en")) }}
  OPTIONAL {{ ?item skos:altLabel ?alias FILTER(LANGMATCHES(LANG(?alias), "en")) }}
  OPTIONAL {{ ?item schema:description ?description
              FILTER(LANGMATCHES(LANG(?description), "en")) }}
  OPTIONAL {{ ?item wdt:P31 ?class }}
}}
ORDER BY ?item ?label ?alias ?description ?class
LIMIT 5000
"""


def candidates_from_rows(rows: Iterable[dict[str, str]]) -> list[Candidate]:
    items: dict[str, dict] = {}
    for row in rows:
        item = items.setdefault(row["item"], {"label": "", "aliases": [], "description": "",
                                              "classes": set()})
        item["label"] = item["label"] or row.get("label", "")
        item["description"] = item["description"] or row.get("description", "")
        if row.get("alias") and row["alias"] not in item["aliases"]:
            item["aliases"].append(row["alias"])
        if row.get("class"):
            item["classes"].add(row["class"])
    return [Candidate(iri, d["label"], tuple(d["aliases"]), d["description"],
                      frozenset(d["classes"])) for iri, d in sorted(items.items())]
