"""Evidence spans must quote their source verbatim, and every curated subject needs one."""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from pyoxigraph import Literal, Store, Variable

from .corpus import Corpus
from .errors import DataError
from .namespaces import SOURCE_GRAPH_BASE, shorten
from .parsing import SourceMaps

_SPANS = """
PREFIX parley: <https://w3id.org/parley/ontology#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX oa: <http://www.w3.org/ns/oa#>
SELECT ?graph ?evidence ?document ?exact ?start ?end ?sourceGraphs WHERE {
  GRAPH ?graph {
    ?evidence a parley:Evidence .
    OPTIONAL { ?evidence prov:wasQuotedFrom ?document }
    OPTIONAL { ?evidence oa:exact ?exact }
    OPTIONAL { ?evidence oa:start ?start }
    OPTIONAL { ?evidence oa:end ?end }
  }
  FILTER STRSTARTS(STR(?graph), ?sourceGraphs)
} ORDER BY ?graph ?evidence ?document ?exact ?start ?end
"""

# The text file of each source document, in whichever graph describes it. Asked apart from
# the spans: joined into _SPANS as an OPTIONAL over any graph, pyoxigraph scanned every
# document for every span (10 s for 24,000 spans of a million triples, 0.4 s apart).
_TEXT_FILES = """
PREFIX parley: <https://w3id.org/parley/ontology#>
SELECT ?document ?file WHERE { GRAPH ?documentGraph { ?document parley:textFile ?file } }
ORDER BY ?document ?file
"""

# Subjects typed with a parley: class (other than the bookkeeping classes) that carry no
# parley:evidence in their own source graph: the closed-world rule of docs/design.md.
_UNEVIDENCED = """
PREFIX parley: <https://w3id.org/parley/ontology#>
SELECT ?graph ?subject (MIN(?class) AS ?someClass) ?sourceGraphs WHERE {
  GRAPH ?graph {
    ?subject a ?class .
    FILTER NOT EXISTS { ?subject parley:evidence ?span }
  }
  FILTER STRSTARTS(STR(?class), "https://w3id.org/parley/ontology#")
  FILTER (?class NOT IN (parley:Evidence, parley:Curation, parley:SourceDocument))
  FILTER STRSTARTS(STR(?graph), ?sourceGraphs)
} GROUP BY ?graph ?subject ?sourceGraphs ORDER BY ?graph ?subject
"""


@dataclass(frozen=True)
class Passage:
    start: int
    end: int
    text: str
    similarity: float


def check_quotes(store: Store, corpus: Corpus, maps: SourceMaps) -> list[DataError]:
    """`oa:exact` must equal `text[oa:start:oa:end]` of the quoted source's text file."""
    texts: dict[str, str] = {}
    # By text file name: asking the corpus per span scans every source, quadratic at scale.
    by_text_file = {source.text.name: source for source in corpus.sources}
    text_files: dict = {}
    for row in store.query(_TEXT_FILES):
        text_files.setdefault(row["document"], row["file"])  # one file each: the first
    problems, seen = [], set()
    rows = store.query(_SPANS, substitutions={Variable("sourceGraphs"): Literal(SOURCE_GRAPH_BASE)})
    for row in rows:
        graph, evidence = row["graph"], row["evidence"]
        if evidence in seen:
            continue
        seen.add(evidence)

        def problem(message: str, hint: str | None = None, graph=graph, evidence=evidence):
            # Prefixes and positions need the file's text: looked up only for a problem.
            prefixes = maps.by_graph[graph][-1].prefixes if graph in maps.by_graph else None
            name = (shorten(evidence.value, prefixes) if hasattr(evidence, "value")
                    else str(evidence))
            path, line, col = maps.locate(getattr(evidence, "value", ""), graph)
            problems.append(DataError(f"evidence {name}: {message}", path, line, col, hint))

        missing = [p for p, key in (("prov:wasQuotedFrom", "document"), ("oa:exact", "exact"),
                                    ("oa:start", "start"), ("oa:end", "end")) if row[key] is None]
        if missing:
            problem(f"has no {', '.join(missing)}",
                    "an evidence span needs prov:wasQuotedFrom, oa:exact, oa:start and oa:end")
            continue
        text_file = text_files.get(row["document"])
        if text_file is None:
            prefixes = maps.by_graph[graph][-1].prefixes if graph in maps.by_graph else None
            problem(f"quotes {shorten(row['document'].value, prefixes)}, which has no "
                    f"parley:textFile")
            continue
        source = by_text_file.get(text_file.value)
        if source is None:
            problem(f"its source text {text_file.value} is not in the corpus's sources/")
            continue
        if source.id not in texts:
            texts[source.id] = source.read_text()
        text = texts[source.id]
        exact = row["exact"].value
        try:
            start, end = int(row["start"].value), int(row["end"].value)
        except ValueError:
            problem("oa:start and oa:end must be integers")
            continue
        if 0 <= start <= end <= len(text) and text[start:end] == exact:
            continue
        where = f"sources/{source.text.name}"
        found = [m.start() for m in re.finditer(re.escape(exact), text)] if exact else []
        if found:
            spans = "; ".join(f"oa:start {s} ; oa:end {s + len(exact)}" for s in found[:3])
            problem(f"oa:exact is not at [{start}:{end}] of {where}; the quote occurs elsewhere",
                    f"use {spans}")
            continue
        passage = closest_passage(text, exact)
        hint = (f"closest passage ({passage.similarity:.0%} similar) is oa:start "
                f"{passage.start} ; oa:end {passage.end}: {passage.text!r}") if passage else None
        problem(f"oa:exact is not found verbatim in {where}", hint)
    return problems


def check_every_subject_evidenced(store: Store, maps: SourceMaps) -> list[DataError]:
    problems = []
    rows = store.query(_UNEVIDENCED,
                       substitutions={Variable("sourceGraphs"): Literal(SOURCE_GRAPH_BASE)})
    for row in rows:
        graph, subject = row["graph"], row["subject"]
        prefixes = maps.by_graph[graph][-1].prefixes if graph in maps.by_graph else None
        iri = getattr(subject, "value", "")
        path, line, col = maps.locate(iri, graph)
        problems.append(DataError(
            f"{shorten(iri, prefixes) if iri else subject} "
            f"(a {shorten(row['someClass'].value, prefixes)}) has no parley:evidence",
            path, line, col,
            hint="every curated subject points at an evidence span quoting the source"))
    return problems


def closest_passage(text: str, quote: str) -> Passage | None:
    """The span of `text` most like `quote`, searched around their longest common run.

    Candidates start at a word and end after a word or a punctuation mark, so the
    suggestion never cuts a word; their length stays within a third of the quote's.
    """
    if not quote or not text:
        return None
    matcher = difflib.SequenceMatcher(None, text, quote, autojunk=False)
    anchor = matcher.find_longest_match(0, len(text), 0, len(quote))
    if anchor.size == 0:
        return None
    aligned, reach = anchor.a - anchor.b, max(len(quote) // 3, 12)
    starts = _offsets(_WORD_START, text, aligned - reach, aligned + reach)
    best = None
    for start in starts:
        low, high = start + len(quote) - reach, start + len(quote) + reach
        for end in _offsets(_WORD_END, text, low, high):
            if end > start:
                candidate = _scored(text, quote, start, end)
                if best is None or candidate.similarity > best.similarity:
                    best = candidate
    return best


_WORD_START = re.compile(r"(?<!\w)(?=\w)")
_WORD_END = re.compile(r"(?<=\w)(?!\w)|(?<=[.!?,;:’”\"')])")


def _offsets(pattern: re.Pattern, text: str, low: int, high: int) -> list[int]:
    low, high = max(0, low), min(len(text), high)
    return [m.start() for m in pattern.finditer(text, low, high + 1)]


def _scored(text: str, quote: str, start: int, end: int) -> Passage:
    candidate = text[start:end]
    ratio = difflib.SequenceMatcher(None, candidate, quote, autojunk=False).ratio()
    return Passage(start, end, candidate, ratio)
