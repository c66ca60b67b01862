"""Reasoning at scale: the ontology compiled into rules, materialised with SPARQL in the store."""
from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass, field

from pyoxigraph import BlankNode, Literal, NamedNode, Store

from .namespaces import INFERRED_GRAPH, ONTOLOGY_GRAPH, OWL, RDF, RDFS, SOURCE_GRAPH_BASE

# The ontology is small and the data large, so the work is split the way OWL RL engines
# split it: the TBox is read once into tables (class and property hierarchies, domains,
# ranges, inverses, symmetric properties, property chains, and the defined classes of the
# form C ≡ A ⊓ ∃p.B), and each rule is then one SPARQL INSERT over the store that joins the
# data with a VALUES table of those axioms, repeated until nothing new is derived. Every
# entailment goes to a scratch graph first (later rules read it); what no graph asserts,
# about an IRI some source describes, is then copied to graph/inferred, which is what the
# HermiT path materialises (test_scale_paths checks both give the same graph).
#
# The queries inline ontology terms only, serialised by pyoxigraph; curated data never
# reaches the query text.

_WORK = NamedNode("urn:x-parley:reasoning:closure")
# Values of a super-property (x prov:wasDerivedFrom e, from x parley:evidence e) are
# entailed, but the HermiT path does not materialise them (owlready2 reports the values
# HermiT gives per property, which leave them out). They are kept apart: the rules read
# them (a super-property's domain still types x) but they are never published, so both
# paths write the same graph.
_SUPER_VALUES = NamedNode("urn:x-parley:reasoning:super-property-values")
_TRIVIAL = frozenset([OWL + "Thing", OWL + "NamedIndividual"])


def _p(local: str, ns: str = OWL) -> NamedNode:
    return NamedNode(ns + local)


@dataclass
class Rules:
    """The instance-level consequences of an ontology, as tables of named terms."""

    supers: dict = field(default_factory=lambda: defaultdict(set))         # class -> closure
    object_properties: set = field(default_factory=set)
    implies: set = field(default_factory=set)         # (p, q, inverted): x p y => x q y / y q x
    chains: list = field(default_factory=list)        # (q, [(p1, inv1), (p2, inv2)])
    domains: dict = field(default_factory=lambda: defaultdict(set))        # prop -> classes
    ranges: dict = field(default_factory=lambda: defaultdict(set))
    definitions: list = field(default_factory=list)   # (C, [A...], [(p, B)...])
    disjoint: set = field(default_factory=set)        # frozenset({A, B})

    def closed(self, classes) -> set:
        found = set()
        for cls in classes:
            found |= self.supers.get(cls, {cls}) | {cls}
        return {c for c in found if c.value not in _TRIVIAL}


def compile_rules(store: Store, ontology: NamedNode = ONTOLOGY_GRAPH) -> Rules:
    """Read the TBox from the ontology graph into rule tables."""
    triples = defaultdict(lambda: defaultdict(list))
    for quad in store.quads_for_pattern(None, None, None, ontology):
        triples[quad.subject][quad.predicate.value].append(quad.object)

    def one(node, predicate):
        found = triples.get(node, {}).get(predicate, [])
        return found[0] if found else None

    def items(node):
        members = []
        while node is not None and node != _p("nil", RDF):
            members.append(one(node, RDF + "first"))
            node = one(node, RDF + "rest")
        return members

    rules = Rules()
    direct = defaultdict(set)
    for subject, predicates in triples.items():
        kinds = {t.value for t in predicates.get(RDF + "type", [])}
        if OWL + "ObjectProperty" in kinds and isinstance(subject, NamedNode):
            rules.object_properties.add(subject)
        for sup in predicates.get(RDFS + "subClassOf", []):
            if isinstance(subject, NamedNode) and isinstance(sup, NamedNode):
                direct[subject].add(sup)
        for other in predicates.get(OWL + "equivalentClass", []):
            if isinstance(other, NamedNode) and isinstance(subject, NamedNode):
                direct[subject].add(other)
                direct[other].add(subject)
            elif isinstance(subject, NamedNode):
                named, existentials = _definition(one, items, other)
                direct[subject].update(named)  # C ≡ A ⊓ … gives C ⊑ A
                if named or existentials:
                    rules.definitions.append((subject, named, existentials))
        for other in predicates.get(OWL + "disjointWith", []):
            rules.disjoint.add(frozenset((subject, other)))
        if OWL + "AllDisjointClasses" in kinds:
            members = items(one(subject, OWL + "members"))
            rules.disjoint.update(frozenset(pair) for pair in itertools.combinations(members, 2))
    classes = set(direct) | {c for sups in direct.values() for c in sups}
    for cls in classes:
        rules.supers[cls] = closure(cls, direct)

    def named_classes(node) -> set:
        """The named classes every member of `node` belongs to (a union's common supers)."""
        if isinstance(node, NamedNode):
            return rules.closed([node])
        members = items(one(node, OWL + "unionOf")) if node is not None else []
        if not members:
            return set()
        return set.intersection(*(named_classes(m) for m in members))

    subproperties = defaultdict(set)
    for subject, predicates in triples.items():
        if not isinstance(subject, NamedNode):
            continue
        for sup in predicates.get(RDFS + "subPropertyOf", []):
            if isinstance(sup, NamedNode):
                subproperties[sup].add(subject)
                rules.implies.add((subject, sup, False))
        for inverse in predicates.get(OWL + "inverseOf", []):
            if isinstance(inverse, NamedNode):
                rules.implies.add((subject, inverse, True))
                rules.implies.add((inverse, subject, True))
        if OWL + "SymmetricProperty" in {t.value for t in predicates.get(RDF + "type", [])}:
            rules.implies.add((subject, subject, True))
        for cls in predicates.get(RDFS + "domain", []):
            rules.domains[subject] |= named_classes(cls)
        for cls in predicates.get(RDFS + "range", []):
            rules.ranges[subject] |= named_classes(cls)
        for chain in predicates.get(OWL + "propertyChainAxiom", []):
            steps = []
            for step in items(chain):
                inverse = one(step, OWL + "inverseOf") if isinstance(step, BlankNode) else None
                steps.append((inverse, True) if inverse is not None else (step, False))
            rules.chains.append((subject, steps))
    # A domain or range of a property holds for its sub-properties too.
    for table in (rules.domains, rules.ranges):
        for prop, found in list(table.items()):
            for sub in closure(prop, subproperties) - {prop}:
                table[sub] = table[sub] | found
    return rules


def _definition(one, items, node) -> tuple[list, list]:
    """A ⊓ ∃p.B ⊓ …: the named conjuncts and the (p, B) of the existential ones."""
    named, existentials = [], []
    for member in items(one(node, OWL + "intersectionOf")):
        if isinstance(member, NamedNode):
            named.append(member)
        elif one(member, OWL + "someValuesFrom") is not None:
            filler = one(member, OWL + "someValuesFrom")
            if isinstance(filler, NamedNode):
                existentials.append((one(member, OWL + "onProperty"), filler))
    return named, existentials


def closure(start, edges: dict) -> set:
    """Everything reachable from `start` along `edges` (start included): a hierarchy's closure."""
    seen, todo = {start}, [start]
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _values(variables: str, rows) -> str:
    body = " ".join("(" + " ".join(str(t) for t in row) + ")" for row in sorted(
        rows, key=lambda r: tuple(str(t) for t in r)))
    return f"VALUES ({variables}) {{ {body} }}"


# The graphs a fact may come from: the ontology (its individuals), the sources, and the
# entailments derived so far.
_FACT_GRAPHS = (f"FILTER (?g = {ONTOLOGY_GRAPH} || ?g = {_WORK} || ?g = {_SUPER_VALUES} || "
                f"STRSTARTS(STR(?g), {Literal(SOURCE_GRAPH_BASE)}))")
# Literals HermiT reads (the OWL 2 datatype map); it ignores the others, and so do the
# domain rules here, so that both paths type a subject by the same statements.


def _fact(s: str, p: str, o: str, var: str) -> str:
    return (f"GRAPH {var} {{ {s} {p} {o} }} "
            + _FACT_GRAPHS.replace("?g", var))


class Materialiser:
    """Runs the rules of one ontology over a store until nothing new is derived."""

    def __init__(self, store: Store, rules: Rules, owl2_datatypes: frozenset[str]):
        self.store, self.rules = store, rules
        self.datatypes = ", ".join(f"<{d}>" for d in sorted(owl2_datatypes))
        self._graphs = itertools.count()
        self._sizes: dict[NamedNode, int] = {}

    def _g(self) -> str:
        return f"?g{next(self._graphs)}"

    def _insert(self, template: str, where: str, graph: NamedNode = _WORK) -> int:
        # Only the rules write these graphs: the size after one insert is the size before
        # the next, which halves the counting (a full scan of the graph each time).
        if graph not in self._sizes:
            self._sizes[graph] = self._count(graph)
        before = self._sizes[graph]
        self.store.update(f"INSERT {{ GRAPH {graph} {{ {template} }} }} WHERE {{ {where} "
                          f"FILTER NOT EXISTS {{ GRAPH {graph} {{ {template} }} }} }}")
        self._sizes[graph] = self._count(graph)
        return self._sizes[graph] - before

    def _count(self, graph: NamedNode) -> int:
        row = next(iter(self.store.query(
            f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {graph} {{ ?s ?p ?o }} }}")))
        return int(row["n"].value)

    def run(self) -> None:
        self._properties()
        self._types()
        while self._definitions():
            pass

    def _properties(self) -> None:
        """Sub-properties, inverses, symmetric properties and chains, to a fixpoint."""
        forward = [(p, q) for p, q, inverted in self.rules.implies if not inverted]
        backward = [(p, q) for p, q, inverted in self.rules.implies if inverted]
        while True:
            new = 0
            if forward:
                new += self._insert("?x ?q ?y", f"{_values('?p ?q', forward)} "
                                                f"{_fact('?x', '?p', '?y', self._g())} "
                                                f"FILTER (!isLiteral(?y))", _SUPER_VALUES)
            if backward:
                new += self._insert("?y ?q ?x", f"{_values('?p ?q', backward)} "
                                                f"{_fact('?x', '?p', '?y', self._g())} "
                                                f"FILTER (!isLiteral(?y))")
            for target, steps in self.rules.chains:
                if len(steps) != 2:
                    continue
                (p1, inv1), (p2, inv2) = steps
                first = _fact("?m", str(p1), "?x", self._g()) if inv1 else \
                    _fact("?x", str(p1), "?m", self._g())
                second = _fact("?z", str(p2), "?m", self._g()) if inv2 else \
                    _fact("?m", str(p2), "?z", self._g())
                new += self._insert(f"?x {target} ?z", f"{first} {second}")
            if not new:
                return

    def _types(self) -> None:
        """Classes that domains and ranges entail, then the superclasses of every type.

        Domains and ranges give their own classes only, from the distinct (node,
        property) pairs; one superclass pass then closes asserted and derived types alike,
        which derives each type once instead of once per property that entails it.
        """
        domains = [(p, c) for p, classes in self.rules.domains.items() for c in classes]
        if domains:
            g = self._g()
            self._insert("?x a ?c", f"{{ SELECT DISTINCT ?x ?p WHERE {{ "
                                    f"VALUES ?p {{ {' '.join(sorted({str(p) for p, _ in domains}))} }} "
                                    f"{_fact('?x', '?p', '?y', g)} FILTER (!isLiteral(?y) || "
                                    f"DATATYPE(?y) IN ({self.datatypes})) }} }} "
                                    f"{_values('?p ?c', domains)}")
        ranges = [(p, c) for p, classes in self.rules.ranges.items()
                  if p in self.rules.object_properties for c in classes]
        if ranges:
            g = self._g()
            self._insert("?y a ?c", f"{{ SELECT DISTINCT ?y ?p WHERE {{ "
                                    f"VALUES ?p {{ {' '.join(sorted({str(p) for p, _ in ranges}))} }} "
                                    f"{_fact('?x', '?p', '?y', g)} FILTER (!isLiteral(?y)) }} }} "
                                    f"{_values('?p ?c', ranges)}")
        by_class = [(cls, sup) for cls, sups in self.rules.supers.items()
                    for sup in self.rules.closed(sups) if sup != cls]
        if by_class:
            self._insert("?x a ?c", f"{{ SELECT DISTINCT ?x ?d WHERE {{ "
                                    f"VALUES ?d {{ {' '.join(sorted({str(d) for d, _ in by_class}))} }} "
                                    f"{_fact('?x', 'a', '?d', self._g())} }} }} "
                                    f"{_values('?d ?c', by_class)}")

    def _definitions(self) -> int:
        """C ≡ A ⊓ ∃p.B: an A with a p to some B is a C (and all C's superclasses)."""
        new = 0
        for defined, named, existentials in self.rules.definitions:
            patterns = [_fact("?x", "a", str(a), self._g()) for a in named]
            for index, (prop, filler) in enumerate(existentials):
                patterns.append(_fact("?x", str(prop), f"?y{index}", self._g()))
                patterns.append(_fact(f"?y{index}", "a", str(filler), self._g()))
            for cls in sorted(self.rules.closed([defined]), key=str):
                new += self._insert(f"?x a {cls}", " ".join(patterns))
        return new

    def publish(self) -> int:
        """Copy to graph/inferred what no graph asserts, about IRIs the sources describe."""
        before = len(list(self.store.quads_for_pattern(None, None, None, INFERRED_GRAPH)))
        trivial = ", ".join(f"<{t}>" for t in sorted(_TRIVIAL))
        self.store.update(f"""
            INSERT {{ GRAPH {INFERRED_GRAPH} {{ ?s ?p ?o }} }} WHERE {{
              GRAPH {_WORK} {{ ?s ?p ?o }}
              FILTER (isIRI(?s) && isIRI(?o) && ?o NOT IN ({trivial}))
              FILTER EXISTS {{ GRAPH ?source {{ ?s ?anyP ?anyO }}
                              FILTER STRSTARTS(STR(?source), {Literal(SOURCE_GRAPH_BASE)}) }}
              FILTER NOT EXISTS {{ GRAPH ?asserted {{ ?s ?p ?o }} FILTER (?asserted != {_WORK}) }}
            }}""")
        after = len(list(self.store.quads_for_pattern(None, None, None, INFERRED_GRAPH)))
        return after - before

    def clashes(self) -> list[tuple[NamedNode, NamedNode, NamedNode]]:
        """(individual, class, class) for each individual of two disjoint classes."""
        found = []
        for pair in sorted(self.rules.disjoint, key=lambda p: sorted(map(str, p))):
            first, second = sorted(pair, key=str)
            query = (f"SELECT DISTINCT ?x WHERE {{ {_fact('?x', 'a', str(first), self._g())} "
                     f"{_fact('?x', 'a', str(second), self._g())} }} ORDER BY ?x")
            found += [(row["x"], first, second) for row in self.store.query(query)]
        return found

    def discard(self) -> None:
        for graph in (_WORK, _SUPER_VALUES):
            self.store.remove_graph(graph)


def materialise(store: Store, owl2_datatypes: frozenset[str]) -> tuple[int, list]:
    """Entailments into graph/inferred; returns their number and any disjointness clash."""
    materialiser = Materialiser(store, compile_rules(store), owl2_datatypes)
    try:
        materialiser.run()
        clashes = materialiser.clashes()
        if clashes:
            return 0, clashes
        return materialiser.publish(), []
    finally:
        materialiser.discard()
