"""A SPARQL client for notebooks: queries and saved queries into typed pandas DataFrames."""
from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Iterable, Mapping
from urllib.parse import quote, urljoin

import pandas as pd
import requests
from rdflib import BNode, Graph, Literal, URIRef

from parley.kg.errors import KGError, ParameterError, QueryError
from parley.kg.namespaces import PREFIXES, RDFS, SKOS, XSD
from parley.kg.querying import FLOAT_TYPES, INTEGER_TYPES

ENV_ENDPOINT = "PARLEY_ENDPOINT"
DEFAULT_ENDPOINT = "http://127.0.0.1:5000/sparql"

SPARQL_JSON = "application/sparql-results+json"
# One Accept header for every query form: the server answers SELECT/ASK with results
# and CONSTRUCT/DESCRIBE with RDF, so the client needs no SPARQL parser of its own.
ACCEPT = f"{SPARQL_JSON}, application/n-triples;q=0.9, text/turtle;q=0.8"
RDF_FORMATS = {"application/n-triples": "nt", "text/turtle": "turtle",
               "application/ld+json": "json-ld", "application/rdf+xml": "xml"}

_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Characters SPARQL's IRIREF production forbids; an IRI holding one could end the term early.
_NOT_IN_IRI = re.compile(r'[\x00-\x20<>"{}|^`\\]')

_TEMPORAL = {"date", "dateTime", "gYearMonth", "gYear"}


class EndpointError(KGError):
    """The endpoint cannot be reached, or answered with something other than SPARQL."""

    exit_code = 1


def endpoint_url(environ: Mapping[str, str] = os.environ) -> str:
    """`$PARLEY_ENDPOINT` if set, else the address `kg serve` listens on by default."""
    return environ.get(ENV_ENDPOINT) or DEFAULT_ENDPOINT


class Endpoint:
    """A SPARQL 1.1 Protocol endpoint (`kg serve`'s `/sparql`, or any other) seen from Python.

    `select` returns a DataFrame with typed columns, `ask` a bool, `construct` an rdflib
    Graph; `saved` runs one of the server's saved queries by name.
    """

    def __init__(self, url: str, *, api: str | None = None, timeout: float = 60.0,
                 session: requests.Session | None = None):
        self.url = url
        # The saved-query API lives beside /sparql on a Parley server; another server
        # (or a Parley behind a proxy) can name it explicitly.
        self.api = (api or urljoin(url, "api/queries")).rstrip("/")
        self.timeout = timeout
        self._session = session or requests.Session()

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ, **options) -> Endpoint:
        return cls(endpoint_url(environ), **options)

    def __repr__(self) -> str:
        return f"Endpoint({self.url!r})"

    # -- query forms -------------------------------------------------------------------

    def query(self, query: str, *, bindings: Mapping[str, object] | None = None,
              labels: bool = False) -> pd.DataFrame | bool | Graph:
        """Run any query; the answer's type follows the query form."""
        text = bind(query, bindings) if bindings else query
        response = self._send("POST", self.url, what="the SPARQL endpoint",
                              data={"query": text})
        return self._decode(response, labels=labels)

    def select(self, query: str, *, bindings: Mapping[str, object] | None = None,
               labels: bool = False) -> pd.DataFrame:
        """SELECT into a DataFrame; `labels=True` adds a `<var>Label` column per IRI column."""
        return _expect(self.query(query, bindings=bindings, labels=labels),
                       pd.DataFrame, "select()", "SELECT")

    def ask(self, query: str, *, bindings: Mapping[str, object] | None = None) -> bool:
        return _expect(self.query(query, bindings=bindings), bool, "ask()", "ASK")

    def construct(self, query: str, *, bindings: Mapping[str, object] | None = None) -> Graph:
        """CONSTRUCT or DESCRIBE into an rdflib Graph (with the project's prefixes bound)."""
        return _expect(self.query(query, bindings=bindings), Graph, "construct()",
                       "CONSTRUCT or DESCRIBE")

    # -- saved queries -------------------------------------------------------------------

    def catalog(self) -> pd.DataFrame:
        """The server's saved queries, one row each (GET /api/queries)."""
        response = self._send("GET", self.api, what="the saved-query API",
                              headers={"Accept": "application/json"})
        body = _json(response, self.api)
        entries = body.get("queries", body) if isinstance(body, dict) else body
        return pd.json_normalize(entries)

    def saved(self, name: str, *, labels: bool = False, **parameters) -> pd.DataFrame | bool | Graph:
        """Run the saved query `name`, its parameters as keywords (`actor=…`)."""
        url = f"{self.api}/{quote(name, safe='')}"
        params = {key: _parameter_text(key, value) for key, value in parameters.items()}
        response = self._send("GET", url, what=f"the saved query {name!r}", params=params,
                              saved=name)
        return self._decode(response, labels=labels)

    # -- labels --------------------------------------------------------------------------

    def labels(self, iris: Iterable[str]) -> dict[str, str]:
        """One label per IRI that has one: English first, skos:prefLabel before rdfs:label."""
        wanted = sorted({iri for iri in iris if isinstance(iri, str) and _valid_iri(iri)})
        rows = []
        # Chunked so that a frame of thousands of IRIs does not become one huge request.
        for start in range(0, len(wanted), 500):
            values = " ".join(URIRef(iri).n3() for iri in wanted[start:start + 500])
            response = self._send("POST", self.url, what="the SPARQL endpoint", data={
                "query": "SELECT ?iri ?property ?label (LANG(?label) AS ?lang) WHERE {\n"
                         f"  VALUES ?iri {{ {values} }}\n"
                         f"  VALUES ?property {{ <{SKOS}prefLabel> <{RDFS}label> }}\n"
                         "  ?iri ?property ?label\n"
                         "}"}, headers={"Accept": SPARQL_JSON})
            rows += _json(response, self.url).get("results", {}).get("bindings", [])
        return _best_labels(rows)

    # -- HTTP ----------------------------------------------------------------------------

    def _send(self, method: str, url: str, *, what: str, saved: str | None = None,
              **request) -> requests.Response:
        request.setdefault("headers", {"Accept": ACCEPT})
        try:
            response = self._session.request(method, url, timeout=self.timeout, **request)
        except requests.ConnectionError as error:
            raise EndpointError(
                f"cannot reach {what} at {url} ({_reason(error)}).\n"
                f"    Is `kg serve` running? Start it with `kg serve --store var/store` "
                f"(after `kg build --store var/store`), or set {ENV_ENDPOINT} to the "
                f"endpoint's URL (now {self.url}).") from None
        except requests.Timeout:
            raise EndpointError(
                f"{what} at {url} did not answer within {self.timeout:g} s; the query may "
                f"be too heavy, or pass a larger timeout: Endpoint(url, timeout=…).") from None
        if response.ok:
            return response
        message = _server_message(response)
        if response.status_code == 404 and saved is not None:
            raise QueryError(f"no saved query {saved!r} at {url}: {message}\n"
                             "    Endpoint.catalog() lists the saved queries.")
        if response.status_code == 404:
            raise EndpointError(f"{url} is not {what} (HTTP 404: {message}); is "
                                f"{ENV_ENDPOINT} the URL of a SPARQL endpoint, such as "
                                f"{DEFAULT_ENDPOINT}?")
        if response.status_code == 400 and saved is not None:
            raise ParameterError(f"the saved query {saved!r} refused its parameters: {message}")
        if 400 <= response.status_code < 500:
            raise QueryError(f"{what} at {url} rejected the query (HTTP "
                             f"{response.status_code}): {message}")
        raise EndpointError(f"{what} at {url} failed (HTTP {response.status_code}): {message}")

    def _decode(self, response: requests.Response, *, labels: bool) -> pd.DataFrame | bool | Graph:
        media = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if media in (SPARQL_JSON, "application/json"):
            body = _json(response, response.url)
            if "boolean" in body:
                return bool(body["boolean"])
            frame = results_frame(body)
            return self._add_labels(frame) if labels else frame
        if media in RDF_FORMATS:
            graph = Graph()
            for prefix, namespace in PREFIXES.items():
                graph.bind(prefix, namespace)
            graph.parse(data=response.text, format=RDF_FORMATS[media])
            return graph
        raise EndpointError(f"{response.url} answered with {media or 'no content type'}, "
                            "not SPARQL results or RDF; is it a SPARQL endpoint?")

    def _add_labels(self, frame: pd.DataFrame) -> pd.DataFrame:
        iri_columns = [c for c in frame.columns
                       if frame.attrs["kinds"].get(c) == {"uri"} and f"{c}Label" not in frame]
        if not iri_columns:
            return frame
        names = self.labels(v for c in iri_columns for v in frame[c].dropna())
        labelled = frame.copy()
        for column in reversed(iri_columns):
            position = labelled.columns.get_loc(column) + 1
            # An IRI without a label shows as itself, so that no row reads as blank.
            labelled.insert(position, f"{column}Label",
                            labelled[column].map(lambda iri: names.get(iri, iri)))
        return labelled


def bind(query: str, bindings: Mapping[str, object]) -> str:
    """The query with a trailing VALUES row binding each variable to an RDF term.

    Values are serialised as terms (IRIs checked, literals escaped), never spliced as text.
    A trailing VALUES joins after grouping (SPARQL 1.1 §18.2.4.3), so a bound variable of
    an aggregate query must be a group key.
    """
    names, terms = [], []
    for name, value in bindings.items():
        if not isinstance(name, str) or not _VARIABLE.fullmatch(name):
            raise ParameterError(f"{name!r} is not a SPARQL variable name")
        names.append(f"?{name}")
        terms.append(_term(name, value))
    return f"{query.rstrip()}\nVALUES ({' '.join(names)}) {{ ({' '.join(terms)}) }}\n"


def _term(name: str, value: object) -> str:
    if isinstance(value, URIRef):
        if not _valid_iri(str(value)):
            raise ParameterError(f"?{name}: {str(value)!r} is not an IRI")
        return value.n3()
    if isinstance(value, BNode):
        raise ParameterError(f"?{name}: a blank node cannot be bound from outside the endpoint")
    if isinstance(value, Literal):
        return value.n3()
    if isinstance(value, (str, bool, int, float, dt.date, dt.datetime)):
        return Literal(value).n3()
    raise ParameterError(f"?{name}: cannot bind a {type(value).__name__}; pass an rdflib "
                         "URIRef for an IRI, or a str/int/float/bool/date/Literal")


def _parameter_text(name: str, value: object) -> str:
    if isinstance(value, (URIRef, Literal, str)):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, dt.date)):
        return value.isoformat() if isinstance(value, dt.date) else str(value)
    raise ParameterError(f"parameter {name!r}: cannot send a {type(value).__name__}")


def _valid_iri(text: str) -> bool:
    return ":" in text and not _NOT_IN_IRI.search(text)


def _expect(answer, kind: type, method: str, form: str):
    if not isinstance(answer, kind):
        got = {pd.DataFrame: "SELECT", bool: "ASK", Graph: "CONSTRUCT/DESCRIBE"}[type(answer)]
        raise QueryError(f"{method} runs {form} queries, this one is a {got} query; "
                         "use Endpoint.query() for any form")
    return answer


# -- SPARQL JSON results into typed columns ------------------------------------------------

def results_frame(body: Mapping) -> pd.DataFrame:
    """SPARQL 1.1 JSON results as a DataFrame, one typed column per variable.

    `frame.attrs["kinds"]` maps each column to the kinds of term it held (`uri`, `bnode`,
    `int`, `float`, `bool`, `date`, `dateTime`, `gYear`, `gYearMonth`, `str`, `triple`).
    """
    variables = list(body.get("head", {}).get("vars", []))
    rows = body.get("results", {}).get("bindings", [])
    columns, kinds = {}, {}
    for variable in variables:
        cells = [_cell(row.get(variable)) for row in rows]
        kinds[variable] = {kind for kind, _ in cells if kind is not None}
        columns[variable] = _series(cells, kinds[variable])
    frame = pd.DataFrame(columns, columns=variables)
    frame.attrs["kinds"] = kinds
    return frame


def _cell(term: Mapping | None) -> tuple[str | None, object]:
    if term is None:
        return None, None
    kind, value = term["type"], term["value"]
    if kind == "uri":
        return "uri", value
    if kind == "bnode":
        return "bnode", f"_:{value}"
    if kind == "triple":
        parts = [_n3(value[k]) for k in ("subject", "predicate", "object")]
        return "triple", f"<< {' '.join(parts)} >>"
    datatype = term.get("datatype", "")
    try:
        if datatype in INTEGER_TYPES:
            return "int", int(value)
        if datatype in FLOAT_TYPES:
            return "float", float(value)
        if datatype == XSD + "boolean":
            return "bool", {"true": True, "1": True, "false": False, "0": False}[value.strip()]
        local = datatype[len(XSD):] if datatype.startswith(XSD) else ""
        if local in _TEMPORAL:
            return local, _temporal(local, value.strip())
    except (ValueError, KeyError):
        pass  # an ill-typed literal stays its lexical form rather than failing the frame
    return "str", value


def _temporal(kind: str, text: str):
    if kind == "dateTime":
        return pd.Timestamp(text)
    # Dates carry at most a time zone after their digits; day precision drops it.
    if kind == "date":
        return pd.Timestamp(dt.date.fromisoformat(text[:10]))
    if kind == "gYearMonth":
        return pd.Period(text[:7], freq="M")
    return pd.Period(year=int(text[:4]), freq="Y")


def _series(cells: list[tuple[str | None, object]], kinds: set[str]) -> pd.Series:
    values = [value for _, value in cells]
    if kinds == {"int"}:
        return pd.Series(values, dtype="Int64")
    if kinds and kinds <= {"int", "float"}:
        return pd.Series([float("nan") if v is None else v for v in values], dtype="float64")
    if kinds == {"bool"}:
        return pd.Series(values, dtype="boolean")
    if kinds and kinds <= {"date", "dateTime"}:
        try:
            return pd.Series(pd.to_datetime(values))
        except (ValueError, TypeError):
            return pd.Series(values, dtype=object)  # time zones mixed with local times
    if kinds in ({"gYear"}, {"gYearMonth"}):
        freq = "Y" if kinds == {"gYear"} else "M"
        return pd.Series(pd.array([pd.NaT if v is None else v for v in values],
                                  dtype=f"period[{freq}]"))
    if kinds <= _TEMPORAL and kinds:
        # Mixed precision (an event on a day, another in a month or a year): each value
        # keeps its own precision as a Period; to_timestamps() gives their start times.
        return pd.Series([_as_period(kind, v) for kind, v in cells], dtype=object)
    if kinds <= {"str", "uri", "bnode"}:
        return pd.Series(values)  # str dtype on pandas 3, object before
    return pd.Series(values, dtype=object)


def _as_period(kind: str | None, value):
    if value is None:
        return pd.NaT
    if kind == "date":
        return pd.Period(value, freq="D")
    if kind == "dateTime":
        return pd.Period(value, freq="s")
    return value


def to_timestamps(values: pd.Series) -> pd.Series:
    """Start times of a column of dates, dateTimes and Periods (for plotting on one axis)."""
    return pd.to_datetime(values.map(
        lambda v: v.start_time if isinstance(v, pd.Period) else v))


def _n3(term: Mapping) -> str:
    kind, value = term["type"], term["value"]
    if kind == "uri":
        return f"<{value}>"
    if kind == "bnode":
        return f"_:{value}"
    if kind == "triple":
        return _cell(term)[1]
    return Literal(value, lang=term.get("xml:lang"), datatype=term.get("datatype")).n3()


def _best_labels(rows: list[dict]) -> dict[str, str]:
    # Deterministic whatever order the endpoint returns: an English or untagged label,
    # then the preferred property, then the alphabetically first.
    ranked: dict[str, tuple] = {}
    for row in rows:
        iri, label = row["iri"]["value"], row["label"]["value"]
        lang = row.get("lang", {}).get("value", "").lower()
        rank = (lang not in ("", "en") and not lang.startswith("en-"),
                row["property"]["value"] != SKOS + "prefLabel", label)
        if iri not in ranked or rank < ranked[iri]:
            ranked[iri] = rank
    return {iri: rank[2] for iri, rank in ranked.items()}


# -- messages ------------------------------------------------------------------------------

def _json(response: requests.Response, url: str):
    try:
        return response.json()
    except ValueError:
        raise EndpointError(f"{url} answered with invalid JSON") from None


def _server_message(response: requests.Response) -> str:
    text = response.text.strip()
    media = response.headers.get("Content-Type", "")
    if "json" in media:
        try:
            body = json.loads(text)
        except ValueError:
            return text[:2000]
        if isinstance(body, dict):
            for key in ("message", "error", "detail", "description"):
                if isinstance(body.get(key), str):
                    return body[key]
                if isinstance(body.get(key), dict) and "message" in body[key]:
                    return str(body[key]["message"])
    if "html" in media:
        # Strip markup so the message reads as the server's words, not its page layout.
        text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text)).strip()
    return text[:2000] or response.reason or "no message"


def _reason(error: requests.ConnectionError) -> str:
    text = str(error)
    for reason in ("Connection refused", "Name or service not known", "No route to host",
                   "Temporary failure in name resolution", "Connection reset"):
        if reason in text:
            return reason.lower()
    return "connection failed"
