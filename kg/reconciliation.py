"""Reconciliation scoring: graph entities against Wikidata candidates by name, type and context."""
from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field

from .namespaces import PARLEY, SKOS

WD = "http://www.wikidata.org/entity/"
EXACT_MATCH = SKOS + "exactMatch"
CLOSE_MATCH = SKOS + "closeMatch"

# Defaults chosen so that only a (normalised) name equality, or a near-equal name backed by
# a compatible type and the candidate's own words, clears the threshold; see docs/linking.md.
DEFAULT_THRESHOLD = 0.85
DEFAULT_MARGIN = 0.05
NAME_WEIGHT, TYPE_WEIGHT, CONTEXT_WEIGHT = 0.70, 0.15, 0.15
# A name equal only as a token set ("Israel Prime Minister") is strong but not equality.
TOKEN_MATCH_FACTOR = 0.9
# Candidates scoring below this are noise, not worth a curator's time.
REVIEW_FLOOR = 0.35

# The parley classes a reconciled entity can have, each with its direct superclasses
# (docs/design.md). Only these take part in linking: collectives, anonymous sources and
# article-local events (meetings, statements, leaks, polls, orders, trips) have no
# Wikidata item to find.
HIERARCHY: dict[str, tuple[str, ...]] = {
    "Person": (), "Organization": (), "Place": (), "Office": (), "Event": (),
    "State": ("Organization", "Place"), "Government": ("Organization",),
    "GoverningAuthority": ("Government",), "Agency": ("Organization",),
    "IntelligenceAgency": ("Agency",), "PoliticalMovement": ("Organization",),
    "PoliticalParty": ("Organization",), "Administration": ("Organization",),
    "Territory": ("Place",), "Region": ("Place",),
    "War": ("Event",), "Truce": ("Event",), "Election": ("Event",), "Attack": ("Event",),
    "Takeover": ("Event",),
}
# Plain parley:Event is left out: the reasoner infers it for meetings, statements and leaks.
LINKABLE_CLASSES = tuple(PARLEY + name for name in HIERARCHY if name != "Event")
# A building that gives its name to the body working in it ("the White House" for the
# administration): never the same thing, at best a close match.
BUILDING = "Building"
METONYM_HOSTS = ("Organization",)

# Wikidata classes whose identifiers are confirmed in the extract (EVIDENCE.md).
P31_KINDS = {WD + "Q5": "Person", WD + "Q6256": "State", WD + "Q3624078": "State",
             WD + "Q5107": "Region"}

# Head nouns of a description's first noun phrase, in the vocabulary of docs/design.md.
DESCRIPTION_KINDS = [
    (r"politician|human|person|diplomat", "Person"),
    (r"country|sovereign state|state|nation", "State"),
    (r"territory", "Territory"),
    (r"continent|region", "Region"),
    (r"organi[sz]ation|movement|group", "Organization"),
    (r"party", "PoliticalParty"),
    (r"intelligence (?:service|agency)", "IntelligenceAgency"),
    (r"agency", "Agency"),
    (r"government|authority", "Government"),
    (r"administration|presidency", "Administration"),
    (r"office|position|head", "Office"),
    (r"war|conflict", "War"),
    (r"truce|ceasefire|cease-fire|armistice", "Truce"),
    (r"election", "Election"),
    (r"attack|massacre|raid", "Attack"),
    (r"takeover|coup", "Takeover"),
    (r"battle|crisis|event", "Event"),
    (r"residence|building|house|palace|workplace", BUILDING),
]
_KIND_PATTERN = re.compile("|".join(rf"\b(?P<k{i}>{p})\b"
                                   for i, (p, _) in enumerate(DESCRIPTION_KINDS)))
# The first noun phrase ends at the first preposition or relative clause.
_PHRASE_END = re.compile(
    r"\b(?:of|in|on|at|between|that|which|who|created|with|from|for|by)\b|[,;(]")

STOPWORDS = frozenset({"the", "of", "a", "an", "and", "in", "on", "at", "for", "to"})
# Spelling variants the scorer treats as one word; kept tiny and domain-neutral on purpose.
SYNONYMS = {"truce": "ceasefire", "organisation": "organization"}
_YEAR = re.compile(r"\b(1[0-9]{3}|2[0-9]{3})\b")


@dataclass(frozen=True)
class Entity:
    """A graph entity to reconcile: its IRI, names (label first), parley classes, years."""

    iri: str
    labels: tuple[str, ...]
    types: frozenset[str]
    years: frozenset[str] = frozenset()

    @property
    def label(self) -> str:
        return self.labels[0] if self.labels else self.iri


@dataclass(frozen=True)
class Candidate:
    """A Wikidata item as the candidate source knows it."""

    iri: str
    label: str
    aliases: tuple[str, ...] = ()
    description: str = ""
    instance_of: frozenset[str] = frozenset()

    @property
    def qid(self) -> str:
        return self.iri.rsplit("/", 1)[-1]

    @property
    def names(self) -> tuple[str, ...]:
        return (self.label, *self.aliases) if self.label else self.aliases


@dataclass(frozen=True)
class Score:
    """One entity-candidate comparison and why it came out as it did."""

    entity: Entity
    candidate: Candidate
    score: float
    matched_label: str
    entity_label: str
    property: str
    reason: str


@dataclass(frozen=True)
class Link:
    entity: Entity
    candidate: Candidate
    property: str
    score: float
    matched_label: str
    method: str


@dataclass(frozen=True)
class ReviewItem:
    """An entity the linker did not link, with its best candidates (possibly none)."""

    entity: Entity
    reason: str
    candidates: tuple[Score, ...]
    method: str


@dataclass
class LinkResult:
    links: list[Link] = field(default_factory=list)
    review: list[ReviewItem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


# The offline linker scores every entity against every item of the extract, so the same
# names and descriptions are normalised thousands of times; these pure functions are cached.
_CACHED = functools.lru_cache(maxsize=1 << 16)


@_CACHED
def normalise(text: str) -> str:
    """Lowercase ASCII words: no diacritics, dots, possessives, dashes or "the"."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = text.replace("\u2019", "'").replace(".", "")  # C.I.A. -> cia, Oct. -> oct
    text = re.sub(r"'s\b", "", text).replace("'", "")
    text = re.sub(r"[^a-z0-9]+", " ", text)
    words = [SYNONYMS.get(w, w) for w in text.split() if w != "the"]
    return " ".join(words).replace("cease fire", "ceasefire")


@_CACHED
def tokens(text: str) -> frozenset[str]:
    return frozenset(w for w in normalise(text).split() if w not in STOPWORDS)


def name_similarity(a: str, b: str) -> float:
    """1 for equal normalised names, else a discounted Dice coefficient of their words."""
    if normalise(a) == normalise(b):
        return 1.0
    ta, tb = tokens(a), tokens(b)
    if not ta or not tb:
        return 0.0
    return TOKEN_MATCH_FACTOR * 2 * len(ta & tb) / (len(ta) + len(tb))


@_CACHED
def candidate_kind(candidate: Candidate) -> str | None:
    """The candidate's kind from its P31 classes, else its description's head noun."""
    for cls in sorted(candidate.instance_of):
        if cls in P31_KINDS:
            return P31_KINDS[cls]
    phrase = _PHRASE_END.split(candidate.description.lower(), maxsplit=1)[0]
    # The head of an English noun phrase is its last noun: "armed conflict", "political party".
    found = [m for m in _KIND_PATTERN.finditer(phrase)]
    if not found:
        return None
    last = found[-1]
    index = int(next(k for k, v in last.groupdict().items() if v is not None)[1:])
    return DESCRIPTION_KINDS[index][1]


@_CACHED
def ancestors(cls: str) -> frozenset[str]:
    seen, todo = set(), [cls]
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo.extend(HIERARCHY.get(current, ()))
    return frozenset(seen)


@_CACHED
def _candidate_context(candidate: Candidate) -> tuple[frozenset[str], frozenset[str]]:
    """The years and the words of a candidate's names and description."""
    text = " ".join((*candidate.names, candidate.description))
    return frozenset(_YEAR.findall(text)), tokens(text)


def type_relation(entity: Entity, kind: str | None) -> str:
    """"compatible", "neutral", "metonym" or "incompatible" for an entity and a kind."""
    if kind is None:
        return "neutral"
    classes = {t[len(PARLEY):] for t in entity.types if t.startswith(PARLEY)}
    if not classes & set(HIERARCHY):
        return "neutral"
    if kind == BUILDING:
        hosts = any(set(METONYM_HOSTS) & ancestors(c) for c in classes)
        return "metonym" if hosts else "incompatible"
    if any(kind in ancestors(c) or c in ancestors(kind) for c in classes):
        return "compatible"
    return "incompatible"


def is_event(entity: Entity) -> bool:
    return any("Event" in ancestors(t[len(PARLEY):]) for t in entity.types if t.startswith(PARLEY))


def score(entity: Entity, candidate: Candidate) -> Score:
    """Score one pair; an incompatible type or, for events, disjoint years vetoes it."""
    pairs = [(name_similarity(e, c), e, c) for e in entity.labels for c in candidate.names]
    # Ties go to the earlier names: the entity's label and the candidate's own label.
    name, entity_label, matched = max(pairs, key=lambda p: p[0], default=(0.0, entity.label, ""))
    relation = type_relation(entity, candidate_kind(candidate))
    property = CLOSE_MATCH if relation == "metonym" else EXACT_MATCH

    def result(value: float, reason: str) -> Score:
        return Score(entity, candidate, round(value, 3), matched, entity_label, property, reason)

    if relation == "incompatible":
        return result(0.0, "type incompatible")
    candidate_years, context_words = _candidate_context(candidate)
    if is_event(entity) and entity.years and candidate_years and not entity.years & candidate_years:
        return result(0.0, "different year")
    wanted = tokens(entity_label)
    context = len(wanted & context_words) / len(wanted) if wanted else 0.0
    type_score = {"compatible": 1.0, "neutral": 0.5, "metonym": 0.5}[relation]
    value = NAME_WEIGHT * name + TYPE_WEIGHT * type_score + CONTEXT_WEIGHT * context
    reason = "metonym: the item is a building named like the body" if relation == "metonym" \
        else f"name {name:.2f}, type {relation}, context {context:.2f}"
    return result(value, reason)


def reconcile(entities: list[Entity], candidates, threshold: float = DEFAULT_THRESHOLD,
              margin: float = DEFAULT_MARGIN) -> LinkResult:
    """Link each entity to its best candidate when clearly best and above the threshold.

    `candidates` has `method` (a parley:LinkMethod IRI) and `candidates_for(entity)`.
    """
    result = LinkResult()
    for entity in sorted(entities, key=lambda e: e.iri):
        scores = sorted((score(entity, c) for c in candidates.candidates_for(entity)),
                        key=lambda s: (-s.score, s.candidate.iri))
        shortlist = tuple(s for s in scores if s.score >= REVIEW_FLOOR)
        if not shortlist:
            result.review.append(ReviewItem(entity, "no candidate", (), candidates.method))
            continue
        best = shortlist[0]
        rivals = tuple(s for s in shortlist[1:] if s.score >= best.score - margin)
        if rivals:
            result.review.append(ReviewItem(entity, f"ambiguous within {margin}",
                                            (best, *rivals), candidates.method))
        elif best.score < threshold:
            result.review.append(ReviewItem(entity, f"below threshold {threshold}",
                                            shortlist[:3], candidates.method))
        else:
            result.links.append(Link(entity, best.candidate, best.property, best.score,
                                     best.matched_label, candidates.method))
    return result
