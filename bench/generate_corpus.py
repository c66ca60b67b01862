"""Deterministic synthetic corpora in Parley's curated format, for build and query benchmarks.

    python bench/generate_corpus.py --triples 100000 --out /tmp/corpus-100k --seed 1

writes `<out>/sources/<id>.txt` (generated news text), `<out>/sources/<id>.ttl` (the
source document), `<out>/curated/<id>.ttl` (the curation activity, the facts as n-ary
nodes and their evidence spans) and `<out>/wikidata/` (a copy of the packaged extract),
the layout of docs/design.md. Every `oa:exact` is a sentence of the generated text, unique
in it, at its code-point offsets: `kg build --corpus <out>` runs its full path on it.

The world is fictional (invented states, people and negotiations), so no statement about
a real person is made up. It is shared between sources the way real reporting is: each
negotiation is covered by many articles, each article re-introduces (types, labels and
cites evidence for) the actors, offices, places and issues it names, in its own graph,
and adds its own fact nodes (meetings, proposals, terms, positions, claims, assessments).
The same seed and size give byte-identical files.
"""
from __future__ import annotations

import argparse
import datetime
import json
import random
import re
import shutil
import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

PREFIXES = {
    "parley": "https://w3id.org/parley/ontology#",
    "pid": "https://w3id.org/parley/id/",
    "src": "https://w3id.org/parley/source/",
    "curation": "https://w3id.org/parley/curation/",
    "curator": "https://w3id.org/parley/curator/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "prov": "http://www.w3.org/ns/prov#",
    "org": "http://www.w3.org/ns/org#",
    "oa": "http://www.w3.org/ns/oa#",
    "time": "http://www.w3.org/2006/time#",
    "dcterms": "http://purl.org/dc/terms/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}
CURATOR = "curator:synthetic-corpus-generator"
# A fixed curation time keeps the output byte-identical from one run to the next.
CURATED_AT = "2026-01-01T00:00:00Z"
# Measured on generated corpora: a source (metadata + curated) holds ~440 triples.
TRIPLES_PER_SOURCE_ESTIMATE = 440

# ---- names ----------------------------------------------------------------------------
# Syllables for invented place names; first and last names from many languages, some with
# letters outside ASCII so that code-point offsets differ from byte offsets.
_ONSETS = ["Val", "Kes", "Mor", "Tal", "Ser", "Bel", "Dra", "Ost", "Lun", "Cor", "Zan", "Pel",
           "Ner", "Ama", "Ris", "Tor", "Vin", "Hal", "Qua", "Ebr", "Sol", "Myr", "Gal", "Ith"]
_MIDDLES = ["a", "e", "o", "i", "ar", "en", "or", "an", "el", "u"]
_CODAS = ["dria", "via", "stan", "land", "mark", "tia", "nia", "gard", "ria", "sia", "nor", "vel"]
_FIRST = ["Amira", "José", "Zoë", "Björn", "Łucja", "Ngozi", "Aigerim", "Tomás", "Yusuf",
          "Mariam", "Kenji", "Ingrid", "Rafael", "Leïla", "Dmitri", "Fatima", "Oluwaseun",
          "Chiara", "Mehmet", "Anaïs", "Tariq", "Sigrún", "Pablo", "Hana", "Nikolai",
          "Esther", "Karim", "Ayşe", "Jonas", "Priya", "Omar", "Søren", "Lucía", "Hamid",
          "Elif", "Mateus", "Noor", "Viktor", "Aditi", "Samuel", "Rania", "Henrik", "Dalia",
          "Tiago", "Selin", "Ibrahim", "Maren", "Youssef", "Ilse", "Kwame"]
_LAST = ["Haddad", "Müller", "Ødegaard", "Nakamura", "Okafor", "Castellanos", "Novák",
         "Benali", "Kowalczyk", "Andersson", "Demir", "Rahimi", "Santos", "Ivanova", "Mensah",
         "Fernández", "Lindqvist", "Petrović", "Nasser", "Takahashi", "Oyelaran", "Moreau",
         "Yılmaz", "Kaplan", "Sørensen", "Abdullah", "Rossi", "Vasquez", "Chowdhury",
         "Jovanović", "Khalil", "Barros", "Aydın", "Lehmann", "Mahmoud", "Costa", "Dubois",
         "Hosseini", "Eriksen", "Wójcik", "Sato", "Farouk", "Nieminen", "Alvarez", "Qureshi",
         "Baptiste", "Horvat", "Salem", "Greco", "Mwangi"]
_WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"]
_NUMBER_WORDS = ["two", "three", "four", "five"]

# Issues a negotiation can turn on: (slug, label, phrase in running text, term type).
_ISSUES = [
    ("ceasefire-permanence", "Length of any pause in the fighting",
     "the length of any pause in the fighting", "parley:Ceasefire"),
    ("hostage-releases", "Release of the hostages", "the release of the hostages",
     "parley:HostageRelease"),
    ("prisoner-releases", "Release of prisoners", "the release of prisoners",
     "parley:PrisonerRelease"),
    ("leaders-fate", "Fate of the movement's leaders", "the fate of the movement’s leaders",
     "parley:LeadersExile"),
    ("territory-governance", "Governance of the territory after the war",
     "who governs the territory after the war", "parley:GazaGovernance"),
    ("statehood", "A future independent state", "a future independent state",
     "parley:Statehood"),
    ("cessation-of-hostilities", "A lasting cessation of hostilities",
     "a lasting cessation of hostilities", "parley:CessationOfHostilities"),
]
_PROGRESS = [("parley:Stalled", "the talks have stalled", "The talks have stalled"),
             ("parley:Intermittent", "the talks have advanced in fits and starts",
              "The talks have advanced in fits and starts"),
             ("parley:NewOpening", "a new opening has emerged",
              "A new opening for negotiations has emerged"),
             ("parley:LittleProgress", "there has been little evident progress",
              "There has been little evident progress")]
_CEASEFIRE_KINDS = [("parley:TemporaryCeasefire", "temporary"),
                    ("parley:PermanentCeasefire", "permanent"),
                    ("parley:ExtendedCeasefire", "extended"),
                    ("parley:ComprehensiveCeasefire", "comprehensive")]
_UNITS = [("time:unitWeek", "weeks"), ("time:unitMonth", "months")]
_HEADINGS = ["How are the negotiations going?", "What terms are being floated?",
             "What are the sticking points?", "What happens after the fighting ends?"]


def indefinite(word: str) -> str:
    """The indefinite article for `word`: "an extended", "a permanent"."""
    return f"{'an' if word[0].lower() in 'aeiou' else 'a'} {word}"


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


# ---- the world ------------------------------------------------------------------------


@dataclass
class Entity:
    """A node many sources mention: its IRI (CURIE), classes, label and fixed facts."""

    iri: str
    classes: tuple[str, ...]
    label: str
    facts: list[tuple[str, str]] = field(default_factory=list)  # (predicate, object) always restated


@dataclass
class Person:
    entity: Entity
    office: Entity
    organization: Entity
    role: str                     # the RoleAssignment's CURIE
    title: str                    # "Valdria’s prime minister"
    leads: bool = False           # heads its organization (parley:ledBy)


@dataclass
class Country:
    state: Entity
    adjective: str
    government: Entity
    agency: Entity
    officials: Entity             # "Valdrian officials", a Collective
    leader: Person                # head of government
    envoy: Person                 # intelligence chief, sent to talks
    capital: Entity


@dataclass
class Movement:
    movement: Entity
    leader: Person
    spokesperson: Person
    leaders_abroad: Entity        # Collective of its political leaders


@dataclass
class Issue:
    entity: Entity
    phrase: str
    term_type: str


@dataclass
class Negotiation:
    entity: Entity
    slug: str
    state: Country                # the state party
    movement: Movement            # the armed movement party
    mediators: list[Country]
    territory: Entity
    track: Entity
    scheme: Entity
    issues: list[Issue]
    hostages: Entity              # HostageGroup
    prisoners: Entity             # Collective


class World:
    """Invented states, movements and negotiations, sized for `sources` articles."""

    def __init__(self, rng: random.Random, sources: int):
        self.rng = rng
        self.used_names: set[str] = set()
        self.used_people: set[str] = set()
        country_count = max(6, sources // 6)
        self.countries = [self._country() for _ in range(country_count)]
        self.states = {c.state.iri: c.state for c in self.countries}
        self.negotiations = [self._negotiation(i) for i in range(max(2, sources // 8))]

    def _place_name(self) -> str:
        while True:
            name = self.rng.choice(_ONSETS) + self.rng.choice(_MIDDLES) + self.rng.choice(_CODAS)
            if name not in self.used_names:
                self.used_names.add(name)
                return name

    def _person_name(self) -> str:
        while True:
            name = f"{self.rng.choice(_FIRST)} {self.rng.choice(_LAST)}"
            if len(self.used_people) > len(_FIRST) * len(_LAST) // 2:
                name = f"{name[:name.index(' ')]} {self.rng.choice('ABCDEFGHJKLMNPRST')}. " \
                       f"{name[name.index(' ') + 1:]}"
            if name not in self.used_people:
                self.used_people.add(name)
                return name

    def _person(self, office_label: str, organization: Entity, title: str,
                leads: bool = False) -> Person:
        name = self._person_name()
        slug = slugify(name)
        person = Entity(f"pid:{slug}", ("parley:Person",), name)
        office = Entity(f"pid:office-{slugify(office_label)}", ("parley:Office",), office_label)
        role = f"pid:role-{slug}-{slugify(office_label)}"
        return Person(person, office, organization, role, title, leads)

    def _country(self) -> Country:
        name = self._place_name()
        adjective = name + ("n" if name[-1] in "ai" else "ian" if name[-1] in "kdr" else "i")
        slug = slugify(name)
        state = Entity(f"pid:{slug}", ("parley:State",), name)
        government = Entity(f"pid:{slug}-government", ("parley:Government",),
                            f"Government of {name}", [("parley:organOf", state.iri)])
        agency = Entity(f"pid:{slug}-intelligence-service", ("parley:IntelligenceAgency",),
                        f"{adjective} Intelligence Service", [("parley:organOf", state.iri)])
        officials = Entity(f"pid:{slug}-officials", ("parley:Collective",),
                           f"{adjective} officials", [("parley:affiliatedWith", state.iri)])
        leader = self._person(f"Prime Minister of {name}", government,
                              f"{name}’s prime minister", leads=True)
        envoy = self._person(f"Director of the {adjective} Intelligence Service", agency,
                             f"the director of the {adjective} intelligence service")
        capital_name = self._place_name()
        capital = Entity(f"pid:{slugify(capital_name)}", ("parley:Place",), capital_name)
        return Country(state, adjective, government, agency, officials, leader, envoy, capital)

    def _negotiation(self, index: int) -> Negotiation:
        rng = self.rng
        state, *mediators = rng.sample(self.countries, 3 if rng.random() < 0.5 else 2)
        name = self._place_name()
        movement_name = f"{name} Liberation Front"
        movement_slug = slugify(movement_name)
        movement = Entity(f"pid:{movement_slug}", ("parley:PoliticalMovement",), movement_name)
        leader = self._person(f"Leader of the {movement_name}", movement,
                              f"the leader of the {movement_name}", leads=True)
        spokesperson = self._person(f"Spokesperson of the {movement_name}", movement,
                                    f"a senior official of the {movement_name}")
        territory = Entity(f"pid:{slugify(name)}-territory", ("parley:Territory",),
                           f"{name} territory", [("parley:occupiedBy", state.state.iri)])
        movement.facts.append(("parley:controls", territory.iri))
        abroad = Entity(f"pid:{movement_slug}-political-leaders", ("parley:Collective",),
                        f"Political leaders of the {movement_name}",
                        [("parley:affiliatedWith", movement.iri),
                         ("parley:basedIn", mediators[0].state.iri)])
        slug = f"{slugify(state.state.label)}-{slugify(name)}-talks"
        entity = Entity(f"pid:negotiation-{slug}", ("parley:Negotiation",),
                        f"{state.state.label}–{movement_name} negotiations on hostages and a cease-fire")
        track = Entity(f"pid:track-{slug}", ("parley:NegotiationTrack",),
                       f"Negotiating track on hostages and a cease-fire ({state.state.label}–{name})")
        entity.facts.append(("parley:hasTrack", track.iri))
        scheme = Entity(f"pid:issues-{slug}", ("skos:ConceptScheme",),
                        f"Issues of the {state.state.label}–{movement_name} negotiations")
        issues = []
        for rank, (issue_slug, label, phrase, term_type) in enumerate(
                rng.sample(_ISSUES, rng.randint(4, len(_ISSUES))), start=1):
            issue = Entity(f"pid:issue-{slug}-{issue_slug}", ("parley:Issue",),
                           f"{label} ({state.state.label}–{name})",
                           [("skos:inScheme", scheme.iri), ("parley:partOfTrack", track.iri),
                            ("parley:prominence", str(rank))])
            issue.facts.append(("skos:prefLabel", _lang(issue.label)))
            issues.append(Issue(issue, phrase.replace("the territory", f"the {name} territory"),
                                term_type))
        hostages = Entity(f"pid:hostages-held-by-{movement_slug}", ("parley:HostageGroup",),
                          f"Hostages held by the {movement_name}")
        prisoners = Entity(f"pid:prisoners-held-by-{slugify(state.state.label)}-{slugify(name)}",
                           ("parley:Collective",),
                           f"Prisoners of the {name} conflict held by {state.state.label}")
        return Negotiation(entity, slug, state, Movement(movement, leader, spokesperson, abroad),
                           mediators, territory, track, scheme, issues, hostages, prisoners)


# ---- one source -----------------------------------------------------------------------


class Lit(NamedTuple):
    """A literal: plain string, language-tagged (@en) or typed."""

    text: str
    lang: str | None = None
    datatype: str | None = None


def _lang(text: str) -> Lit:
    return Lit(text, lang="en")


def _literal(value: str, datatype: str) -> Lit:
    return Lit(value, datatype=datatype)


def _string(text: str) -> Lit:
    return Lit(text)


class SourceGraph:
    """The triples of one source graph, deduplicated, in the order they were stated."""

    def __init__(self):
        self.subjects: dict[str, dict[str, list[str]]] = {}
        self.count = 0

    def add(self, subject: str, predicate: str, obj: str) -> None:
        objects = self.subjects.setdefault(subject, {}).setdefault(predicate, [])
        if obj not in objects:
            objects.append(obj)
            self.count += 1

    def turtle(self, header: str, prefixes: dict[str, str]) -> str:
        lines = [header]
        lines += [f"@prefix {p}: <{iri}> ." for p, iri in prefixes.items()]
        for subject, predicates in self.subjects.items():
            lines.append("")
            parts = []
            for predicate, objects in predicates.items():
                shown = "a" if predicate == "rdf:type" else predicate
                parts.append(f"{shown} " + " , ".join(_term(o) for o in objects))
            lines.append(f"{subject} " + " ;\n    ".join(parts) + " .")
        return "\n".join(lines) + "\n"


def _term(value: str | Lit) -> str:
    if isinstance(value, Lit):
        suffix = f"@{value.lang}" if value.lang else f"^^{value.datatype}" if value.datatype else ""
        return _quote(value.text) + suffix
    return value  # a CURIE, an integer or a boolean, written as is


def _quote(text: str) -> str:
    escaped = (text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
               .replace("\r", "\\r"))
    return f'"{escaped}"'


class Article:
    """The text of one source and its curated graph, written sentence by sentence."""

    def __init__(self, source_id: str, date: datetime.date, rng: random.Random):
        self.id = source_id
        self.date = date
        self.rng = rng
        self.parts: list[str] = []
        self.length = 0
        self.sentences: set[str] = set()
        self.graph = SourceGraph()
        self.evidence_count = 0
        self.facts = 0
        # (proposal, its cease-fire term, the cease-fire's kind) for positions to refer to
        self.proposals: list[tuple[str, str, str]] = []

    # -- text --
    def paragraph_break(self) -> None:
        if self.parts:
            self._append("\n\n")

    def heading(self, text: str) -> None:
        self.paragraph_break()
        self._append(text)
        self._append("\n\n")

    def filler(self, text: str) -> None:
        self._write(text)

    def _append(self, text: str) -> None:
        self.parts.append(text)
        self.length += len(text)  # code points: Python str length

    def _write(self, sentence: str) -> tuple[int, int]:
        if self.parts and not self.parts[-1].endswith("\n"):
            self._append(" ")
        start = self.length
        self._append(sentence)
        return start, self.length

    def text(self) -> str:
        return "".join(self.parts) + "\n"

    # -- facts --
    def says(self, name: str, sentence: str) -> str | None:
        """Write `sentence` as an evidence span; None if the text already has it."""
        if sentence in self.sentences:
            return None
        self.sentences.add(sentence)
        start, end = self._write(sentence)
        self.evidence_count += 1
        span = f"ev:{name}-{self.evidence_count}"
        g = self.graph
        g.add(span, "rdf:type", "parley:Evidence")
        g.add(span, "prov:wasQuotedFrom", f"src:{self.id}")
        g.add(span, "oa:exact", _string(sentence))
        g.add(span, "oa:start", str(start))
        g.add(span, "oa:end", str(end))
        g.add(span, "prov:wasGeneratedBy", f"curation:{self.id}")
        return span

    def node(self, iri: str, classes, label: str | None, span: str, *facts) -> str:
        g = self.graph
        for cls in ((classes,) if isinstance(classes, str) else classes):
            g.add(iri, "rdf:type", cls)
        if label is not None:
            g.add(iri, "rdfs:label", _lang(label))
        for predicate, obj in facts:
            if obj is not None:
                g.add(iri, predicate, obj)
        if span is not None:
            g.add(iri, "parley:evidence", span)
        return iri

    def mention(self, entity: Entity, span: str) -> str:
        """Introduce a shared entity in this graph, or add this span as more evidence."""
        self.node(entity.iri, entity.classes, entity.label,
                  None if entity.classes == ("skos:ConceptScheme",) else span,
                  *entity.facts)
        return entity.iri

    def fact(self, kind: str, what: str) -> str:
        self.facts += 1
        return f"pid:{kind}-{what}-{self.id}-{self.facts}"


def _date(day: datetime.date) -> str:
    return _literal(day.isoformat(), "xsd:date")


def write_article(world: World, negotiation: Negotiation, source_id: str,
                  date: datetime.date, rng: random.Random) -> Article:
    """One news article on `negotiation`, dated `date`, with its curated graph."""
    a = Article(source_id, date, rng)
    n = negotiation
    state, movement = n.state, n.movement
    mediator = rng.choice(n.mediators)
    approx = ("parley:dateApproximate", "true")

    def mention_person(person: Person, span: str) -> None:
        a.mention(person.entity, span)
        a.mention(person.office, span)
        org = person.organization
        a.mention(org, span)
        for predicate, obj in org.facts:
            if predicate == "parley:organOf":
                a.mention(world.states[obj], span)
        if person.leads:
            a.graph.add(org.iri, "parley:ledBy", person.entity.iri)
        a.node(person.role, "parley:RoleAssignment", f"{person.entity.label}, {person.office.label}",
               span, ("org:member", person.entity.iri), ("org:role", person.office.iri),
               ("org:organization", org.iri), ("parley:asOf", _date(date)), approx)

    def mention_negotiation(span: str) -> None:
        a.mention(n.entity, span)
        a.mention(n.track, span)
        for party in (state.state, movement.movement):
            a.mention(party, span)
            a.graph.add(party.iri, "parley:partyTo", n.entity.iri)
        a.mention(n.territory, span)
        for m in n.mediators:
            a.mention(m.state, span)
            a.graph.add(m.state.iri, "parley:mediates", n.entity.iri)

    # Lede: the envoy's meeting, as officials describe it.
    envoy = mediator.envoy
    city = rng.choice([c.capital for c in n.mediators])
    meeting_day = date + datetime.timedelta(days=rng.randint(1, 6))
    participants = [state.officials, mediator.officials]
    sentence = (f"{envoy.title[0].upper()}{envoy.title[1:]}, {envoy.entity.label}, is expected "
                f"to meet senior {state.adjective} and {n.mediators[-1].adjective} officials in "
                f"{city.label} on {_WEEKDAYS[meeting_day.weekday()]} to press for a deal on "
                f"the release of hostages held by the {movement.movement.label}, according to "
                f"{mediator.adjective} officials.")
    span = a.says("envoy-meeting", sentence)
    mention_negotiation(span)
    mention_person(envoy, span)
    a.mention(city, span)
    a.mention(n.hostages, span)
    for collective in (state.officials, mediator.officials, n.mediators[-1].officials):
        a.mention(collective, span)
        a.mention(world.states[collective.facts[0][1]], span)
    meeting = a.node(a.fact("meeting", slugify(envoy.entity.label)), "parley:Meeting",
                     f"{envoy.entity.label}'s planned meeting in {city.label} with "
                     f"{state.adjective} and {n.mediators[-1].adjective} officials",
                     span, ("parley:planned", "true"), ("parley:location", city.iri),
                     ("parley:date", _date(meeting_day)), approx,
                     ("parley:participant", envoy.entity.iri),
                     *[("parley:participant", p.iri) for p in participants],
                     ("parley:forNegotiation", n.entity.iri))
    a.node(a.fact("claim", f"{slugify(mediator.adjective)}-officials-meeting"), "parley:Claim",
           f"{mediator.adjective} officials: {envoy.entity.label} will meet officials in "
           f"{city.label}", span, ("parley:claimant", mediator.officials.iri),
           ("parley:channel", "parley:Briefing"), ("parley:asserts", meeting))

    # The gap: the two issues that matter most to this article.
    first, second = n.issues[0], n.issues[1]
    span = a.says("gap", f"The officials hope to close a wide gap between {state.state.label} "
                         f"and the {movement.movement.label}, particularly on two points: "
                         f"{first.phrase} and {second.phrase}.")
    a.mention(n.scheme, span)
    a.graph.add(n.scheme.iri, "dcterms:source", f"src:{a.id}")
    a.graph.add(n.scheme.iri, "skos:prefLabel", _lang(n.scheme.label))
    for issue in (first, second):
        a.mention(issue.entity, span)
    a.node(a.fact("assessment", "wide-gap"), "parley:Assessment",
           f"A wide gap separates {state.state.label} and the {movement.movement.label} on "
           f"two points", span,
           ("parley:assessmentOf", n.entity.iri), ("parley:progress", "parley:Obstacle"))
    a.node(a.fact("position", f"{slugify(mediator.adjective)}-officials-close-gap"),
           "parley:Position", f"{mediator.adjective} officials hope to close the gap", span,
           ("parley:holder", mediator.officials.iri), ("parley:stance", "parley:HopesFor"),
           ("parley:onIssue", first.entity.iri), ("parley:onIssue", second.entity.iri))
    a.filler("Here’s a look at where the talks stand.")

    # History: the last truce and its exchange.
    a.heading(_HEADINGS[0])
    truce_start = date - datetime.timedelta(days=rng.randint(40, 120))
    days = rng.randint(4, 10)
    hostages, prisoners = rng.randint(12, 140), rng.randint(30, 300)
    span = a.says("truce", f"A {days}-day truce that began on {truce_start.day} "
                           f"{_MONTHS[truce_start.month - 1]} {truce_start.year} allowed the "
                           f"release of more than {hostages} of the hostages; {prisoners} "
                           f"prisoners were freed as part of that deal.")
    released = a.node(a.fact("quantity", "hostages-released"), "parley:Quantity",
                      f"more than {hostages} hostages", span, ("parley:value", str(hostages)),
                      ("parley:qualifier", "parley:MoreThan"))
    freed = a.node(a.fact("quantity", "prisoners-freed"), "parley:Quantity",
                   f"{prisoners} prisoners", span, ("parley:value", str(prisoners)),
                   ("parley:qualifier", "parley:Exactly"))
    a.mention(n.prisoners, span)
    a.node(a.fact("truce", f"{truce_start.isoformat()}"), "parley:Truce",
           f"{days}-day truce of {_MONTHS[truce_start.month - 1]} {truce_start.year}", span,
           ("parley:startDate", _date(truce_start)),
           ("parley:endDate", _date(truce_start + datetime.timedelta(days=days))),
           ("parley:duration", _literal(f"P{days}D", "xsd:duration")),
           ("parley:participant", state.state.iri), ("parley:participant", movement.movement.iri),
           ("parley:hostagesReleased", released), ("parley:prisonersReleased", freed))

    progress, phrase, opening = rng.choice(_PROGRESS)
    span = a.says("progress", f"{opening} since then, with {movement.spokesperson.entity.label} "
                              f"and {mediator.leader.entity.label} trading accusations.")
    for person in (movement.spokesperson, mediator.leader):
        mention_person(person, span)
    a.node(a.fact("assessment", slugify(phrase)), "parley:Assessment",
           f"{phrase[0].upper()}{phrase[1:]}", span, ("parley:assessmentOf", n.entity.iri),
           ("parley:progress", progress))
    span = a.says("leaders-abroad", f"Many of the {movement.movement.label}’s political "
                                    f"leaders are based in {n.mediators[0].state.label}.")
    a.mention(movement.leaders_abroad, span)
    a.mention(n.mediators[0].state, span)

    # Proposals with their terms, and who stands where on them.
    a.heading(_HEADINGS[1])
    for _ in range(rng.randint(1, 2)):
        _proposal(a, n, rng, date)

    a.heading(_HEADINGS[2])
    for _ in range(rng.randint(2, 4)):
        _position(a, n, rng, date, mention_person)

    a.heading(_HEADINGS[3])
    _anonymous_claim(a, n, rng, date)
    return a


def _proposal(a: Article, n: Negotiation, rng: random.Random, date: datetime.date) -> None:
    proposer = rng.choice(n.mediators)
    kind, kind_word = rng.choice(_CEASEFIRE_KINDS)
    unit_from, unit_to = (_UNITS if rng.random() < 0.5 else [rng.choice(_UNITS)] * 2)
    batch = rng.randint(8, 60)
    exchange = rng.randint(2, 5)
    extra = rng.choice(n.issues[2:])
    span = a.says("proposal", f"{proposer.state.label} has put forward a plan that would begin "
                              f"with {indefinite(kind_word)} cease-fire lasting {unit_from[1]} to "
                              f"{unit_to[1]} and the phased release of {batch} hostages, "
                              f"{exchange} prisoners for each of them, and would leave "
                              f"{extra.phrase} for later talks.")
    if span is None:  # the same plan twice in one article: say it once
        return
    a.mention(proposer.state, span)
    a.mention(n.hostages, span)
    a.mention(n.prisoners, span)
    a.mention(extra.entity, span)
    a.mention(n.scheme, span)
    ceasefire_issue = next((i for i in n.issues if i.term_type == "parley:Ceasefire"), n.issues[0])
    a.mention(ceasefire_issue.entity, span)
    hostage_issue = next((i for i in n.issues if i.term_type == "parley:HostageRelease"), n.issues[0])
    a.mention(hostage_issue.entity, span)
    plan = a.fact("proposal", f"{slugify(proposer.state.label)}-plan")
    ceasefire = a.node(a.fact("term", "ceasefire"), "parley:Term",
                       f"{indefinite(kind_word).capitalize()} cease-fire lasting {unit_from[1]} to {unit_to[1]}", span,
                       ("parley:termType", "parley:Ceasefire"), ("parley:ceasefireKind", kind),
                       ("parley:durationFrom", unit_from[0]), ("parley:durationTo", unit_to[0]),
                       ("parley:concernsIssue", ceasefire_issue.entity.iri))
    release = a.node(a.fact("term", "hostage-release"), "parley:Term",
                     f"Phased release of {batch} hostages", span,
                     ("parley:termType", "parley:HostageRelease"), ("parley:phased", "true"),
                     ("parley:concerns", n.hostages.iri),
                     ("parley:concernsIssue", hostage_issue.entity.iri))
    exchange_term = a.node(a.fact("term", "prisoner-release"), "parley:Term",
                           f"{exchange} prisoners released for each hostage", span,
                           ("parley:termType", "parley:PrisonerRelease"),
                           ("parley:concerns", n.prisoners.iri), ("parley:aim", release))
    a.node(plan, "parley:Proposal", f"{proposer.state.label}'s plan: {indefinite(kind_word)} cease-fire "
                                    f"and phased releases", span,
           ("parley:proposedBy", proposer.state.iri), ("parley:hasTerm", ceasefire),
           ("parley:hasTerm", release), ("parley:hasTerm", exchange_term),
           ("parley:concernsIssue", ceasefire_issue.entity.iri),
           ("parley:concernsIssue", hostage_issue.entity.iri))
    a.proposals.append((plan, ceasefire, kind_word))


_STANCES = [("parley:Rejects", "rejects", "would not accept"),
            ("parley:Supports", "supports", "would back"),
            ("parley:Opposes", "opposes", "would oppose"),
            ("parley:WouldConsider", "would consider", "might consider"),
            ("parley:Demands", "demands", "insists on"),
            ("parley:RulesOut", "rules out", "has ruled out")]


def _position(a: Article, n: Negotiation, rng: random.Random, date: datetime.date,
              mention_person) -> None:
    side = rng.choice(["state", "movement"])
    person = n.state.leader if side == "state" else n.movement.leader
    stance, stance_label, verb = rng.choice(_STANCES)
    said_on = date - datetime.timedelta(days=rng.randint(0, 6))
    proposals = a.proposals
    if proposals and rng.random() < 0.6:
        plan, term, kind_word = rng.choice(proposals)
        what, on = f"{indefinite(kind_word)} cease-fire on the terms now proposed", ("parley:onTerm", term)
        about = f"the {kind_word} cease-fire"
    else:
        issue = rng.choice(n.issues)
        what, on = f"any deal that settles {issue.phrase} on the other side’s terms", \
            ("parley:onIssue", issue.entity.iri)
        about = issue.entity.label
    channel, how = rng.choice([("parley:PublicStatement", "said"),
                               ("parley:Interview", "said in an interview"),
                               ("parley:TextMessage", "wrote in a text message")])
    quote = rng.random() < 0.4
    if quote:
        words = f"We {verb} {what}."
        sentence = f"“{words}” {person.entity.label}, {person.title}, {how} on " \
                   f"{_WEEKDAYS[said_on.weekday()]}."
    else:
        sentence = f"{person.entity.label}, {person.title}, {how} on " \
                   f"{_WEEKDAYS[said_on.weekday()]} that {'he' if rng.random() < 0.5 else 'she'} " \
                   f"{verb} {what}."
    span = a.says("position", sentence)
    if span is None:
        return
    mention_person(person, span)
    party = n.state.state if side == "state" else n.movement.movement
    a.mention(party, span)
    a.mention(n.scheme, span)
    if on[0] == "parley:onIssue":
        a.mention(next(i.entity for i in n.issues if i.entity.iri == on[1]), span)
    else:
        a.graph.add(on[1], "parley:evidence", span)
    position = a.node(a.fact("position", f"{slugify(person.entity.label)}-{slugify(stance_label)}"),
                      "parley:Position", f"{person.entity.label} {stance_label} {about}", span,
                      ("parley:holder", person.entity.iri), ("parley:stance", stance), on,
                      ("parley:statedOn", _date(said_on)), ("parley:dateApproximate", "true"))
    a.node(a.fact("claim", slugify(person.entity.label)), "parley:Claim",
           f"{person.entity.label}: {stance_label} {about}", span,
           ("parley:claimant", person.entity.iri), ("parley:channel", channel),
           ("parley:asserts", position),
           ("parley:directQuote", _lang(words) if quote else None))


def _anonymous_claim(a: Article, n: Negotiation, rng: random.Random,
                     date: datetime.date) -> None:
    mediator = rng.choice(n.mediators)
    headcount = rng.randint(2, 5)
    kind, kind_word = rng.choice(_CEASEFIRE_KINDS)
    span = a.says("anonymous", f"{_NUMBER_WORDS[headcount - 2].capitalize()} "
                               f"{mediator.adjective} officials, who spoke on condition of "
                               f"anonymity to discuss sensitive negotiations, said "
                               f"{n.state.state.label} might consider {indefinite(kind_word)} cease-fire "
                               f"if the {n.movement.movement.label}’s leaders left the "
                               f"{n.territory.label}.")
    source = a.node(f"pid:{headcount}-{slugify(mediator.adjective)}-officials-{a.id}",
                    "parley:AnonymousSource",
                    f"{_NUMBER_WORDS[headcount - 2].capitalize()} {mediator.adjective} officials",
                    span, ("parley:anonymous", "true"), ("parley:headcount", str(headcount)),
                    ("parley:affiliatedWith", mediator.state.iri))
    a.mention(mediator.state, span)
    a.mention(n.state.state, span)
    a.mention(n.movement.movement, span)
    a.mention(n.territory, span)
    a.mention(n.scheme, span)
    leaders = next((i for i in n.issues if i.term_type == "parley:LeadersExile"), n.issues[0])
    a.mention(leaders.entity, span)
    term = a.node(a.fact("term", f"{kind_word}-ceasefire"), "parley:Term",
                  f"{indefinite(kind_word).capitalize()} cease-fire", span, ("parley:termType", "parley:Ceasefire"),
                  ("parley:ceasefireKind", kind))
    condition = a.node(a.fact("condition", "leaders-leave"), "parley:Condition",
                       f"If the {n.movement.movement.label}'s leaders leave the {n.territory.label}",
                       span)
    position = a.node(a.fact("position", f"{slugify(n.state.state.label)}-would-consider"),
                      "parley:Position",
                      f"{n.state.state.label} might consider {indefinite(kind_word)} cease-fire if the "
                      f"{n.movement.movement.label}'s leaders leave", span,
                      ("parley:holder", n.state.state.iri),
                      ("parley:stance", "parley:WouldConsider"), ("parley:onTerm", term),
                      ("parley:onIssue", leaders.entity.iri), ("parley:condition", condition))
    a.node(a.fact("claim", "anonymous-officials"), "parley:Claim",
           f"{mediator.adjective} officials, anonymously: {n.state.state.label} might consider "
           f"{indefinite(kind_word)} cease-fire", span, ("parley:claimant", source),
           ("parley:channel", "parley:Briefing"), ("parley:onConditionOfAnonymity", "true"),
           ("parley:asserts", position))


# ---- files ----------------------------------------------------------------------------


def curated_turtle(a: Article, seed: int) -> str:
    head = SourceGraph()
    curation = f"curation:{a.id}"
    head.add(curation, "rdf:type", "parley:Curation")
    head.add(curation, "rdfs:label", _lang(f"Curation of the generated article {a.id}"))
    head.add(curation, "prov:used", f"src:{a.id}")
    head.add(curation, "prov:wasAssociatedWith", CURATOR)
    head.add(curation, "prov:endedAtTime", _literal(CURATED_AT, "xsd:dateTime"))
    head.add(CURATOR, "rdf:type", "prov:Agent")
    head.add(CURATOR, "rdfs:label", _lang(f"Synthetic corpus generator (bench/generate_corpus.py, seed {seed})"))
    for subject, predicates in a.graph.subjects.items():
        for predicate, objects in predicates.items():
            for obj in objects:
                head.add(subject, predicate, obj)
    prefixes = dict(PREFIXES, ev=f"https://w3id.org/parley/evidence/{a.id}/")
    header = (f"# Curated facts of the generated source {a.id} (sources/{a.id}.txt).\n"
              f"# Written by bench/generate_corpus.py (seed {seed}); the world is fictional.\n")
    a.triples = head.count
    return head.turtle(header, prefixes)


def metadata_turtle(a: Article, text: str, title: str) -> tuple[str, int]:
    g = SourceGraph()
    doc = f"src:{a.id}"
    g.add(doc, "rdf:type", "parley:SourceDocument")
    g.add(doc, "dcterms:identifier", _string(a.id))
    g.add(doc, "dcterms:title", _lang(title))
    g.add(doc, "rdfs:label", _lang(title))
    g.add(doc, "dcterms:date", _date(a.date))
    g.add(doc, "dcterms:language", _string("en"))
    g.add(doc, "parley:textFile", _string(f"{a.id}.txt"))
    g.add(doc, "parley:characters", str(len(text)))
    header = f"# Metadata of the generated source document {a.id}.\n"
    return g.turtle(header, {k: PREFIXES[k] for k in
                             ("parley", "src", "rdfs", "dcterms", "xsd")}), g.count


@dataclass
class Generated:
    sources: int
    triples: int
    evidence_spans: int
    characters: int


def generate(out: Path, triples: int, seed: int, wikidata: Path | None) -> Generated:
    """Write a corpus of at least `triples` source triples (metadata + curated) to `out`."""
    estimate = max(1, -(-triples // TRIPLES_PER_SOURCE_ESTIMATE))
    world = World(random.Random(f"world:{seed}:{estimate}"), estimate)
    (out / "sources").mkdir(parents=True, exist_ok=True)
    (out / "curated").mkdir(parents=True, exist_ok=True)
    total = spans = characters = index = 0
    first_day = datetime.date(2023, 1, 1)
    while total < triples:
        rng = random.Random(f"source:{seed}:{index}")
        negotiation = world.negotiations[index % len(world.negotiations)]
        date = first_day + datetime.timedelta(days=rng.randint(0, 3 * 365))
        source_id = f"{negotiation.slug}-{date:%Y-%m}-{index:06d}"
        article = write_article(world, negotiation, source_id, date, rng)
        text = article.text()
        _check_spans(article, text)
        title = f"Generated article on the {negotiation.entity.label}, {date:%-d %B %Y}"
        metadata, meta_count = metadata_turtle(article, text, title)
        curated = curated_turtle(article, seed)
        with open(out / "sources" / f"{source_id}.txt", "w", encoding="utf-8", newline="") as f:
            f.write(text)
        (out / "sources" / f"{source_id}.ttl").write_text(metadata, encoding="utf-8")
        (out / "curated" / f"{source_id}.ttl").write_text(curated, encoding="utf-8")
        total += meta_count + article.triples
        spans += article.evidence_count
        characters += len(text)
        index += 1
    if wikidata is not None and wikidata.is_dir():
        shutil.copytree(wikidata, out / "wikidata", dirs_exist_ok=True)
    result = Generated(index, total, spans, characters)
    manifest = {"generator": "bench/generate_corpus.py", "seed": seed,
                "requested_triples": triples, **result.__dict__}
    (out / "GENERATED.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return result


_UNEVIDENCED_CLASSES = ("parley:Evidence", "parley:Curation", "parley:SourceDocument")


def _check_spans(article: Article, text: str) -> None:
    """The rules the build enforces, checked at the source: exact == text[start:end] and
    occurs once; every node typed with a parley: class (but the bookkeeping ones) has
    evidence."""
    for subject, predicates in article.graph.subjects.items():
        classes = [c for c in predicates.get("rdf:type", []) if c.startswith("parley:")]
        if any(c not in _UNEVIDENCED_CLASSES for c in classes) \
                and not predicates.get("parley:evidence"):
            raise AssertionError(f"{article.id}: {subject} has no parley:evidence")
        if "oa:exact" not in predicates:
            continue
        exact = predicates["oa:exact"][0].text
        start, end = int(predicates["oa:start"][0]), int(predicates["oa:end"][0])
        if text[start:end] != exact or text.count(exact) != 1:
            raise AssertionError(f"{article.id}: span {subject} is not unique at [{start}:{end}]")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--triples", type=int, required=True,
                        help="source triples to generate at least (metadata + curated)")
    parser.add_argument("--out", type=Path, required=True, help="corpus folder to write")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--wikidata", type=Path,
                        default=Path(__file__).resolve().parent.parent / "data" / "wikidata",
                        help="Wikidata extract folder copied into the corpus")
    args = parser.parse_args(argv)
    if args.out.exists() and any(args.out.iterdir()):
        parser.error(f"{args.out} is not empty")
    result = generate(args.out, args.triples, args.seed, args.wikidata)
    print(f"{args.out}: {result.sources} sources, {result.triples} triples, "
          f"{result.evidence_spans} evidence spans, {result.characters} characters",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
