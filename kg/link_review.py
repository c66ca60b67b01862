"""The curator's side of linking: the review file and the link decisions accepted from it."""
from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from pyoxigraph import Literal, NamedNode, RdfFormat, Store, parse

from .errors import DataError, UsageError
from .namespaces import PARLEY, PID, PROV, RDF, RDFS, SKOS, XSD
from .reconciliation import (CLOSE_MATCH, EXACT_MATCH, WD, Candidate, Entity, Link,
                             LinkResult, ReviewItem)

METHOD_CURATOR = PARLEY + "CuratorDecision"
DECISION_BASE = "https://w3id.org/parley/link-decision/"
ACCEPTED, REJECTED = PARLEY + "Accepted", PARLEY + "Rejected"
DECISIONS = {"exactMatch": EXACT_MATCH, "closeMatch": CLOSE_MATCH, "reject": None}
REVIEW_COLUMNS = ("entity", "entity_label", "reason", "candidate", "candidate_label",
                  "candidate_description", "matched_label", "score", "property", "method",
                  "decision", "note")

# Oldest first, so that a later decision on the same pair overrides an earlier one.
DECISIONS_QUERY = f"""PREFIX parley: <{PARLEY}> PREFIX rdf: <{RDF}> PREFIX prov: <{PROV}>
SELECT ?entity ?item ?property ?decision ?score ?label ?when WHERE {{
  ?d a parley:LinkDecision ; rdf:subject ?entity ; rdf:predicate ?property ;
     rdf:object ?item ; parley:decision ?decision ; prov:generatedAtTime ?when .
  OPTIONAL {{ ?d parley:score ?score }} OPTIONAL {{ ?d parley:matchedLabel ?label }}
}} ORDER BY ?when ?entity ?item"""


def write_review(result: LinkResult, path: Path) -> None:
    """The unlinked entities and their candidates as TSV; a curator fills `decision`.

    Decisions already written in an older review file are kept for the same entity and
    candidate, so that relinking never throws a curator's work away.
    """
    kept = {(r["entity"], r["candidate"]): (r["decision"], r["note"])
            for r in read_review(path)} if path.is_file() else {}
    rows = []
    for item in sorted(result.review, key=lambda i: i.entity.iri):
        base = {"entity": item.entity.iri, "entity_label": item.entity.label,
                "reason": item.reason, "method": _local(item.method)}
        for scored in item.candidates or (None,):
            row = dict.fromkeys(REVIEW_COLUMNS, "") | base
            if scored is not None:
                row |= {"candidate": scored.candidate.iri,
                        "candidate_label": scored.candidate.label,
                        "candidate_description": scored.candidate.description,
                        "matched_label": scored.matched_label, "score": f"{scored.score:.3f}",
                        "property": _local(scored.property)}
            row["decision"], row["note"] = kept.get((row["entity"], row["candidate"]), ("", ""))
            rows.append(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, REVIEW_COLUMNS, delimiter="\t", lineterminator="\n")
        writer.writeheader()
        writer.writerows(_clean(row) for row in rows)


def read_review(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t")
        missing = set(REVIEW_COLUMNS) - set(reader.fieldnames or ())
        if missing:
            raise DataError(f"not a review file: missing columns {', '.join(sorted(missing))}",
                            path=path, line=1)
        return list(reader)


@dataclass(frozen=True)
class Decision:
    entity: str
    item: str
    property: str
    accepted: bool
    score: float
    matched_label: str
    when: str
    note: str = ""


def accept_reviewed(review: Path, decisions: Path, curator: str, when: datetime) -> list[Decision]:
    """Append the decisions a curator wrote into the review file to the decisions file."""
    made, problems = [], []
    for line, row in enumerate(read_review(review), start=2):
        choice = row["decision"].strip()
        if not choice:
            continue
        if choice not in DECISIONS or not row["candidate"].startswith(WD + "Q"):
            problems.append(DataError(
                f"decision {choice!r} on a row without a Wikidata candidate" if choice in DECISIONS
                else f"unknown decision {choice!r}", path=review, line=line,
                hint="write exactMatch, closeMatch or reject next to a candidate"))
            continue
        prop = DECISIONS[choice] or (SKOS + row["property"] if row["property"] else EXACT_MATCH)
        made.append(Decision(row["entity"], row["candidate"], prop, DECISIONS[choice] is not None,
                             float(row["score"] or 0), row["matched_label"], when.isoformat(),
                             row["note"].strip()))
    if problems:
        raise problems[0] if len(problems) == 1 else UsageError(
            "\n".join(p.format() for p in problems))
    if made:
        _append_decisions(decisions, made, curator)
    return made


def load_decisions(path: Path | None) -> dict[tuple[str, str], Decision]:
    """The latest decision for each entity and item in the decisions file."""
    if path is None or not path.is_file():
        return {}
    store = Store()
    try:
        store.load(path=path, format=RdfFormat.TURTLE)
    except SyntaxError as error:
        raise DataError(f"syntax error: {error.msg}", path=path, line=error.lineno,
                        col=error.offset) from None
    latest: dict[tuple[str, str], Decision] = {}
    for row in store.query(DECISIONS_QUERY):
        decision = Decision(row["entity"].value, row["item"].value, row["property"].value,
                            row["decision"].value == ACCEPTED,
                            float(row["score"].value) if row["score"] else 0.0,
                            row["label"].value if row["label"] else "", row["when"].value)
        latest[(decision.entity, decision.item)] = decision
    return latest


def apply_decisions(result: LinkResult, entities: list[Entity],
                    decisions: dict[tuple[str, str], Decision]) -> LinkResult:
    """Curator decisions override the scorer: accepted pairs link, rejected pairs never do."""
    by_iri = {e.iri: e for e in entities}
    warnings = list(result.warnings) + [
        f"curator decision on {d.entity} -> {d.item} names no entity of the graph; ignored"
        for d in sorted(decisions.values(), key=lambda d: (d.entity, d.item))
        if d.entity not in by_iri]
    accepted = {d.entity: d for d in decisions.values() if d.accepted and d.entity in by_iri}
    rejected = {k for k, d in decisions.items() if not d.accepted}
    links = [l for l in result.links if l.entity.iri not in accepted
             and (l.entity.iri, l.candidate.iri) not in rejected]
    for iri, d in sorted(accepted.items()):
        links.append(Link(by_iri[iri], Candidate(d.item, d.matched_label), d.property, d.score,
                          d.matched_label, METHOD_CURATOR))
    unlinked = {l.entity.iri for l in result.links} - {l.entity.iri for l in links}
    review = [i for i in result.review if i.entity.iri not in accepted]
    review += [ReviewItem(by_iri[iri], "link rejected by curator", (), METHOD_CURATOR)
               for iri in sorted(unlinked)]
    review = [replace(i, candidates=tuple(s for s in i.candidates
                                          if (i.entity.iri, s.candidate.iri) not in rejected))
              for i in review]
    return LinkResult(sorted(links, key=lambda l: l.entity.iri),
                      sorted(review, key=lambda i: i.entity.iri), warnings)


def _append_decisions(path: Path, decisions: Iterable[Decision], curator: str) -> None:
    blocks = []
    if not path.is_file():
        blocks.append(DECISIONS_HEADER)
    for d in decisions:
        node = NamedNode(f"{DECISION_BASE}{slug(d.entity)}/{d.item.rsplit('/', 1)[-1]}"
                         f"/{hashlib.sha256(d.when.encode()).hexdigest()[:8]}")
        stamp = Literal(d.when, datatype=NamedNode(XSD + "dateTime"))
        blocks.append(
            f"{node} a parley:LinkDecision ;\n"
            f"    rdf:subject {NamedNode(d.entity)} ; rdf:predicate {NamedNode(d.property)} ;\n"
            f"    rdf:object {NamedNode(d.item)} ;\n"
            f"    parley:decision parley:{'Accepted' if d.accepted else 'Rejected'} ;\n"
            f"    parley:score {Literal(f'{d.score:.3f}', datatype=NamedNode(XSD + 'decimal'))} ;\n"
            f"    parley:matchedLabel {Literal(d.matched_label, language='en')} ;\n"
            f"    prov:wasAttributedTo [ a prov:Person ; rdfs:label {Literal(curator, language='en')} ] ;\n"
            + (f"    rdfs:comment {Literal(d.note, language='en')} ;\n" if d.note else "") +
            f"    prov:generatedAtTime {stamp} .\n")
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("\n".join(blocks))
    # Parse what was written: a broken decisions file must fail here, not at the next build.
    list(parse(path=path, format=RdfFormat.TURTLE))


DECISIONS_HEADER = f"""# Curator decisions on Wikidata link candidates (`kg link --accept`).
# Not statements of any article: each records who accepted or rejected which link, when.
@prefix parley: <{PARLEY}> .
@prefix rdf: <{RDF}> .
@prefix rdfs: <{RDFS}> .
@prefix prov: <{PROV}> .
"""


def slug(iri: str) -> str:
    if iri.startswith(PID) and iri[len(PID):].replace("-", "").isalnum():
        return iri[len(PID):]
    return hashlib.sha256(iri.encode()).hexdigest()[:16]


def _local(iri: str) -> str:
    return iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def _clean(row: dict[str, str]) -> dict[str, str]:
    # A tab or newline inside a label would break the TSV's columns.
    return {k: " ".join(v.split()) for k, v in row.items()}
