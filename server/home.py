"""The home page: what the graph holds, and the article's questions answered live."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from flask import Blueprint, url_for
from pyoxigraph import Literal, NamedNode

from parley.kg.catalog import SavedQuery
from parley.kg.errors import KGError
from parley.kg.namespaces import GRAPH_BASE
from parley.kg.querying import bind_parameters, query_with_values

from .addressing import evidence_in_source
from .labels import terms_of
from .reading import Results, catalog, graph, render_page

bp = Blueprint("home", __name__)

# The catalog tag that marks the saved queries answering the source article's questions.
ARTICLE_QUESTION = "article-question"
# A quote longer than this shows as an excerpt that expands to the whole span.
EXCERPT_CHARACTERS = 110

_SOURCES = """
PREFIX parley: <https://w3id.org/parley/ontology#>
PREFIX dcterms: <http://purl.org/dc/terms/>
SELECT ?source ?title ?date ?approximate ?characters WHERE {
  ?source a parley:SourceDocument .
  OPTIONAL { ?source dcterms:title ?title }
  OPTIONAL { ?source dcterms:date ?date }
  OPTIONAL { ?source parley:dateApproximate ?approximate }
  OPTIONAL { ?source parley:characters ?characters }
} ORDER BY ?source
"""

_GRAPH_SIZES = """
SELECT ?graph (COUNT(*) AS ?triples) WHERE { GRAPH ?graph { ?s ?p ?o } }
GROUP BY ?graph ORDER BY ?graph
"""

_COUNTS = """
PREFIX parley: <https://w3id.org/parley/ontology#>
SELECT ?class (COUNT(DISTINCT ?thing) AS ?things) WHERE {
  VALUES ?class { parley:Actor parley:Issue parley:Position parley:Proposal parley:Event
                  parley:Claim parley:Evidence }
  ?thing a ?class
} GROUP BY ?class ORDER BY DESC(?things) ?class
"""

_LAST_BUILD = """
PREFIX prov: <http://www.w3.org/ns/prov#>
SELECT ?build ?ended WHERE {
  GRAPH <https://w3id.org/parley/graph/build> {
    ?build a prov:Activity .
    OPTIONAL { ?build prov:endedAtTime ?ended }
  }
} ORDER BY DESC(?ended) ?build LIMIT 1
"""

# The span behind each evidence IRI the answers show.
_SPANS = """
PREFIX oa: <http://www.w3.org/ns/oa#>
PREFIX prov: <http://www.w3.org/ns/prov#>
SELECT ?evidence ?start ?exact ?source WHERE {
  VALUES ?evidence { %s }
  ?evidence oa:start ?start ; oa:exact ?exact .
  OPTIONAL { ?evidence prov:wasQuotedFrom ?source }
} ORDER BY ?evidence ?start ?exact ?source
"""

_CAMEL_HUMPS = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


@dataclass(frozen=True)
class Quote:
    """One evidence span as an answer shows it: the words, an excerpt, where it is."""

    text: str
    excerpt: str | None          # None when the whole quote is short enough to show
    href: str | None             # the span in the source view
    start: int
    source: str | None           # the IRI of the source document


@dataclass(frozen=True)
class Column:
    """A column an answer shows: one variable as terms or as evidence quotes, or the
    sparse variables together as `details`, each value with its (variable, heading)."""

    heading: str
    kind: str                                 # "term", "evidence" or "details"
    members: tuple[tuple[str, str], ...]

    @property
    def title(self) -> str:
        return " ".join(f"?{name}" for name, _ in self.members)


@dataclass(frozen=True)
class Group:
    """Consecutive rows that share the values of the leading columns, shown once above them."""

    heading: list[tuple[str, object]]        # (heading, term) of each shared column
    rows: list[dict]


@dataclass
class Answer:
    """One saved query answered for the home page, reduced to the columns worth reading."""

    query: SavedQuery
    results: Results | None = None
    error: str | None = None
    columns: list[Column] = field(default_factory=list)      # the cells of a row
    evidence: list[Column] = field(default_factory=list)     # shown under each row
    constants: list[tuple[str, object]] = field(default_factory=list)   # (heading, term)
    groups: list[Group] = field(default_factory=list)


@bp.get("/")
def page():
    store = graph()
    sources = store.select(_SOURCES)
    sizes = store.select(_GRAPH_SIZES)
    counts = store.select(_COUNTS)
    builds = store.select(_LAST_BUILD)
    saved = catalog()
    answers = [_answer(store, q) for q in saved if ARTICLE_QUESTION in q.tags]
    quotes = _quotes(store, answers)
    for answer in answers:
        _compact(answer, quotes)
    answers.sort(key=_article_order)
    others = [(q, _link(q)) for q in saved if ARTICLE_QUESTION not in q.tags]
    terms = terms_of(sources) + terms_of(counts) + terms_of(builds)
    for answer in answers:
        terms += terms_of(answer.results.rows) if answer.results else []
    return render_page("ui/home.html", terms=terms, sources=sources, sizes=sizes,
                       counts=counts, build=builds[0] if builds else None, answers=answers,
                       quotes=quotes, others=others,
                       total=sum(int(r["triples"].value) for r in sizes),
                       graph_base=GRAPH_BASE)


def _answer(store, query: SavedQuery) -> Answer:
    # One question the server refuses (a timeout, a query the guard rejects, a required
    # parameter without default) must not take the other answers down with it; the
    # reason is shown in its place.
    try:
        bindings = bind_parameters(query)
        # Bound as everywhere: VALUES blocks (kg.querying.with_leading_values).
        return Answer(query, results=store.run(query_with_values(query, bindings)))
    except KGError as error:
        return Answer(query, error=str(error))


def _quotes(store, answers: list[Answer]) -> dict[str, Quote]:
    """The span of every evidence IRI the answers show, fetched in one query."""
    evidence = sorted({term.value for answer in answers if answer.results
                       for term in terms_of(answer.results.rows)
                       if evidence_in_source(term)})
    if not evidence:
        return {}
    # VALUES holds serialised NamedNodes, each validated as an IRI when it was built.
    rows = store.select(_SPANS % " ".join(str(NamedNode(iri)) for iri in evidence))
    quotes: dict[str, Quote] = {}
    for row in rows:
        iri = row["evidence"].value
        if iri in quotes:       # a span with two starts or quotes is a data error; show one
            continue
        text = row["exact"].value
        quotes[iri] = Quote(text=text, excerpt=_excerpt(text), start=int(row["start"].value),
                            href=evidence_in_source(row["evidence"]),
                            source=row["source"].value if row["source"] else None)
    return quotes


def _compact(answer: Answer, quotes: dict[str, Quote]) -> None:
    """Choose what an analyst reads of an answer; the Query page keeps every column.

    Dropped: a column with no value; a `fooLabel` column when `foo` is an IRI (shown by
    its label); a quote or source column that repeats the span of an evidence column of
    the same row. Stated once above the table: a column with the same value in every row
    (a parameter's, for one). Gathered into one `details` column: the columns bound in
    fewer than half of the rows, which would otherwise be mostly dashes. Shown as a
    heading over the rows they share: the leading columns whose values change seldom
    (the first changes at most every other row, each next one only where the ones before
    it change). Shown under each row, across the table: its evidence quotes.
    """
    if answer.results is None:
        return
    variables, rows = answer.results.variables, answer.results.rows
    evidence = [v for v in variables
                if any(row[v] is not None for row in rows)
                and all(row[v] is None or (isinstance(row[v], NamedNode) and row[v].value in quotes)
                        for row in rows)]
    shown: list[str] = []
    for name in variables:
        values = [row[name] for row in rows]
        bound = [value for value in values if value is not None]
        if not bound or _repeats_label(name, variables, rows) or (
                name not in evidence and any(_repeats_span(name, e, rows, quotes)
                                             for e in evidence)):
            continue
        if len(rows) > 1 and len(bound) == len(rows) and len(set(bound)) == 1:
            answer.constants.append((_heading(name), bound[0]))
        else:
            shown.append(name)
    grouping = _grouping(shown, rows)
    answer.groups = _groups(grouping, rows)
    shown = [name for name in shown if name not in grouping]
    sparse = [name for name in shown if name not in evidence
              and 2 * sum(row[name] is not None for row in rows) < len(rows)]
    for name in shown:
        if name in evidence:
            answer.evidence.append(Column(_heading(name), "evidence", ((name, _heading(name)),)))
        elif name in sparse and len(sparse) > 1:
            if name == sparse[0]:
                answer.columns.append(Column("details", "details", tuple(
                    (n, _heading(n)) for n in sparse)))
        else:
            answer.columns.append(Column(_heading(name), "term", ((name, _heading(name)),)))


def _grouping(names: list[str], rows: list[dict]) -> list[str]:
    """The leading columns whose values change seldom enough to head groups of rows."""
    grouping: list[str] = []
    for name in names:
        runs = _runs(rows, [*grouping, name])
        # The first column must at least halve the rows; each next one must not split a run
        # of the columns before it (a proposal's author changes only with the proposal).
        if (not grouping and 2 * len(runs) <= len(rows)) or (
                grouping and len(runs) == len(_runs(rows, grouping))):
            grouping.append(name)
        else:
            break
    return grouping


def _runs(rows: list[dict], names: list[str]) -> list[list[dict]]:
    runs: list[list[dict]] = []
    for row in rows:
        if runs and all(runs[-1][0][n] == row[n] for n in names):
            runs[-1].append(row)
        else:
            runs.append([row])
    return runs


def _groups(grouping: list[str], rows: list[dict]) -> list[Group]:
    if not grouping:
        return [Group([], rows)] if rows else []
    return [Group([(_heading(n), run[0][n]) for n in grouping], run)
            for run in _runs(rows, grouping)]


def _repeats_label(name: str, variables: list[str], rows: list[dict]) -> bool:
    """Whether `name` is `fooLabel` and every row shows `foo` as an IRI, by its label."""
    labelled = name[:-len("Label")]
    return name.endswith("Label") and labelled in variables and all(
        row[name] is None or isinstance(row[labelled], NamedNode) for row in rows)


def _repeats_span(name: str, evidence: str, rows: list[dict], quotes: dict[str, Quote]) -> bool:
    """Whether every value of column `name` is the quote or the source of that row's span."""
    shown = False
    for row in rows:
        value, span = row[name], row[evidence]
        if value is None:
            continue
        if span is None:
            return False
        quote = quotes[span.value]
        if isinstance(value, Literal) and value.value == quote.text:
            shown = True
        elif isinstance(value, NamedNode) and value.value == quote.source:
            shown = True
        else:
            return False
    return shown


def _article_order(answer: Answer) -> tuple:
    # The saved queries' `#+ order:` puts the questions in the article's order; unnumbered
    # ones follow in catalog order (the sort is stable).
    return (answer.query.order is None, answer.query.order or 0)


def _link(query: SavedQuery) -> str:
    # A query that needs an argument opens with its example, so the link shows an answer.
    examples = {p.name: p.example for p in query.parameters if p.required and p.example}
    return url_for("ui.workbench.page", saved=query.id, **examples)


def _heading(name: str) -> str:
    """`floatedBy` → `floated by`: the variable name read as words."""
    return _CAMEL_HUMPS.sub(" ", name).lower()


def _excerpt(text: str) -> str | None:
    if len(text) <= EXCERPT_CHARACTERS:
        return None
    cut = text[:EXCERPT_CHARACTERS].rsplit(" ", 1)[0]
    return cut.rstrip(",;:.") + "…"

