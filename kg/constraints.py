"""SHACL core constraints compiled to SPARQL over the store: the shapes phase at scale."""
from __future__ import annotations

import itertools
import os
import re
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from pyoxigraph import BlankNode, Literal, NamedNode, Store

from .errors import KGError
from .namespaces import ONTOLOGY_GRAPH, RDF, RDFS, SH, SHAPES_GRAPH, SOURCE_GRAPH_BASE, XSD
from .rules import closure

# What pySHACL does with inference="rdfs" over one source graph plus the ontology, done
# here with SPARQL over the store: each source graph is validated in its own *view*, the
# source graph united with the ontology graph, typed as RDFS would type it (subclasses,
# sub-properties, domains, ranges). Nothing is copied out of the store and no entailment
# is written: targets and sh:class tests expand the class into the classes and properties
# that entail it, precomputed from the ontology (a few hundred terms).
#
# Queries are generated from the shapes and the ontology, never from curated data: every
# term they inline is an IRI or literal of those two graphs, serialised by pyoxigraph
# (which escapes it), so no text of a source can reach the query syntax.

_NIL = NamedNode(RDF + "nil")
_SUBCLASS, _SUBPROPERTY = NamedNode(RDFS + "subClassOf"), NamedNode(RDFS + "subPropertyOf")
_DOMAIN, _RANGE = NamedNode(RDFS + "domain"), NamedNode(RDFS + "range")
VIOLATION = SH + "Violation"

# Literal datatypes whose lexical form SPARQL can check by casting: an ill-typed literal
# ("ten"^^xsd:integer) fails sh:datatype, as it does in pySHACL.
_CASTABLE = frozenset(XSD + n for n in ("integer", "decimal", "double", "float", "boolean",
                                        "dateTime", "date"))
_NODE_KINDS = {
    "IRI": "isIRI({v})", "BlankNode": "isBlank({v})", "Literal": "isLiteral({v})",
    "BlankNodeOrIRI": "(isIRI({v}) || isBlank({v}))",
    "BlankNodeOrLiteral": "(isBlank({v}) || isLiteral({v}))",
    "IRIOrLiteral": "(isIRI({v}) || isLiteral({v}))",
}
# Parameters of the shapes that are not constraints (or that another component reads).
_NOT_CONSTRAINTS = frozenset(SH + n for n in (
    "targetClass", "targetNode", "targetSubjectsOf", "targetObjectsOf", "property", "path",
    "message", "severity", "name", "description", "deactivated", "flags", "order", "group",
    "defaultValue")) | {RDF + "type", RDFS + "comment", RDFS + "label"}


class UnsupportedShape(KGError):
    """The shapes use a SHACL feature the compiled validator does not implement."""


@dataclass(frozen=True)
class Violation:
    """One validation result, as pySHACL would report it at the top level."""

    graph: NamedNode
    focus: object
    shape: object          # the shape the result names (a blank property shape's owner)
    path: NamedNode | None
    component: str
    messages: tuple[str, ...]
    value: object | None
    severity: str


class _Graph:
    """The shapes graph in memory (a few thousand triples): objects by subject and predicate."""

    def __init__(self, store: Store, graph: NamedNode):
        self.objects: dict = defaultdict(lambda: defaultdict(list))
        self.owner: dict = {}
        for quad in store.quads_for_pattern(None, None, None, graph):
            self.objects[quad.subject][quad.predicate.value].append(quad.object)
            if quad.predicate.value == SH + "property":
                self.owner[quad.object] = quad.subject

    def values(self, node, predicate: str) -> list:
        return self.objects.get(node, {}).get(predicate, [])

    def value(self, node, predicate: str):
        found = self.values(node, predicate)
        return found[0] if found else None

    def items(self, node) -> list:
        """The members of an RDF list."""
        members = []
        while node is not None and node != _NIL:
            members.append(self.value(node, RDF + "first"))
            node = self.value(node, RDF + "rest")
        return members


class Schema:
    """The RDFS closure of the ontology that a view needs: what entails each class."""

    def __init__(self, store: Store, ontology: NamedNode = ONTOLOGY_GRAPH):
        supers, subprops = defaultdict(set), defaultdict(set)
        self.domains, self.ranges = defaultdict(set), defaultdict(set)
        for s, p, o in ((q.subject, q.predicate, q.object) for q in
                        store.quads_for_pattern(None, None, None, ontology)):
            if not isinstance(o, NamedNode) or not isinstance(s, NamedNode):
                continue
            if p == _SUBCLASS:
                supers[s].add(o)
            elif p == _SUBPROPERTY:
                subprops[o].add(s)
            elif p == _DOMAIN:
                self.domains[s].add(o)
            elif p == _RANGE:
                self.ranges[s].add(o)
        self._supers, self._subprops = supers, subprops

    def superclasses(self, cls) -> set:
        return closure(cls, self._supers)

    def subproperties(self, prop) -> set:
        return closure(prop, self._subprops)

    def entailing(self, cls: NamedNode) -> tuple[set, set, set]:
        """Classes, domain properties and range properties whose use makes a node a `cls`."""
        classes = {c for c in self._all_classes() if cls in self.superclasses(c)} | {cls}
        by_domain, by_range = set(), set()
        for table, found in ((self.domains, by_domain), (self.ranges, by_range)):
            for prop, targets in table.items():
                if targets & classes:
                    found.update(self.subproperties(prop))
        return classes, by_domain, by_range

    def _all_classes(self) -> set:
        found = set(self._supers)
        for targets in itertools.chain(self._supers.values(), self.domains.values(),
                                       self.ranges.values()):
            found.update(targets)
        return found



def _values(terms) -> str:
    return " ".join(str(t) for t in sorted(terms, key=str))


class Compiler:
    """Turns shapes into SPARQL patterns; `?g` is the view (source graph) being validated."""

    def __init__(self, shapes: _Graph, schema: Schema):
        self.shapes, self.schema = shapes, schema
        self._fresh = itertools.count()
        self.ontology = str(ONTOLOGY_GRAPH)

    def var(self, stem: str) -> str:
        return f"?{stem}{next(self._fresh)}"

    # -- the view --------------------------------------------------------------------
    def in_view(self, s: str, p: str, o: str) -> str:
        return (f"{{ GRAPH ?g {{ {s} {p} {o} }} }} UNION "
                f"{{ GRAPH {self.ontology} {{ {s} {p} {o} }} }}")

    def values_of(self, node: str, path, value: str) -> str:
        """`value` ranges over the values of `path` for `node` in the view, RDFS included."""
        if not isinstance(path, NamedNode):
            raise UnsupportedShape(f"only predicate paths are compiled, not {path}")
        prop = self.var("p")
        return (f"VALUES {prop} {{ {_values(self.schema.subproperties(path))} }} "
                + self.in_view(node, prop, value))

    def has_type(self, node: str, cls: NamedNode) -> str:
        return " UNION ".join(self._typed(node, cls, self.in_view))

    def _typed(self, node: str, cls: NamedNode, triple) -> list[str]:
        """UNION branches that make `node` a `cls` under RDFS: typed with it or a subclass,
        or the subject (object) of a property whose domain (range) entails it; `triple(s, p,
        o)` writes one triple pattern in the graphs the caller looks at."""
        classes, by_domain, by_range = self.schema.entailing(cls)
        t, p, other = self.var("t"), self.var("p"), self.var("o")
        branches = [f"{{ VALUES {t} {{ {_values(classes)} }} {triple(node, 'a', t)} }}"]
        if by_domain:
            branches.append(f"{{ VALUES {p} {{ {_values(by_domain)} }} "
                            f"{triple(node, p, other)} }}")
        if by_range:
            q = self.var("p")
            branches.append(f"{{ VALUES {q} {{ {_values(by_range)} }} "
                            f"{triple(other, q, node)} }}")
        return branches

    def focus(self, shape) -> str | None:
        """Binds `?g` (a source graph or the ontology) and `?this` to the shape's targets."""
        branches = []
        for cls in self.shapes.values(shape, SH + "targetClass"):
            branches += self._typed("?this", cls, lambda s, p, o: f"GRAPH ?g {{ {s} {p} {o} }}")
        for prop in self.shapes.values(shape, SH + "targetSubjectsOf"):
            p, o = self.var("p"), self.var("o")
            branches.append(f"{{ VALUES {p} {{ {_values(self.schema.subproperties(prop))} }} "
                            f"GRAPH ?g {{ ?this {p} {o} }} }}")
        for prop in self.shapes.values(shape, SH + "targetObjectsOf"):
            p, s = self.var("p"), self.var("s")
            branches.append(f"{{ VALUES {p} {{ {_values(self.schema.subproperties(prop))} }} "
                            f"GRAPH ?g {{ {s} {p} ?this }} }}")
        if self.shapes.values(shape, SH + "targetNode"):
            raise UnsupportedShape(f"sh:targetNode of {shape} is not compiled")
        if not branches:
            return None
        return (" UNION ".join(branches)
                + f" FILTER (?g = {self.ontology} || "
                  f"STRSTARTS(STR(?g), {Literal(SOURCE_GRAPH_BASE)}))")

    # -- constraints -----------------------------------------------------------------
    def violations(self, shape, node: str) -> list[tuple[object, str, str, str | None]]:
        """(shape, component, pattern, value variable) for each constraint of `shape`.

        Each pattern has a solution for every violation by `node` (already bound): the
        value variable names the offending value node, or is None for counts.
        """
        found = []
        path = self.shapes.value(shape, SH + "path")
        if path is not None:
            value = self.var("v")
            found += self._component_checks(shape, node, path, value)
        else:
            found += self._component_checks(shape, node, None, node)
        for child in self.shapes.values(shape, SH + "property"):
            found += self.violations(child, node)
        return found

    def conforms_not(self, shape, node: str) -> str:
        """A pattern with a solution iff `node` does not conform to `shape`."""
        branches = [f"{{ {pattern} }}" for _, _, pattern, _ in self.violations(shape, node)]
        if not branches:
            return "FILTER (false)"
        return " UNION ".join(branches)

    def _component_checks(self, shape, node: str, path, value: str) -> list:
        checks = []
        s = self.shapes
        params = s.objects.get(shape, {})
        unknown = [p for p in params if p not in _NOT_CONSTRAINTS and p not in _COMPONENTS]
        if unknown:
            raise UnsupportedShape(f"{shape} uses {', '.join(sorted(unknown))}, which the "
                                   f"compiled validator does not implement")

        def each_value(condition: str) -> str:
            if path is None:
                return f"FILTER ({condition})"
            return f"{self.values_of(node, path, value)} FILTER ({condition})"

        def add(component: str, pattern: str, has_value: bool = True):
            checks.append((shape, SH + component, pattern, value if has_value else None))

        if path is not None:
            for n in s.values(shape, SH + "minCount"):
                add("MinCountConstraintComponent",
                    f"FILTER NOT EXISTS {{ {self._distinct_values(node, path, int(n.value))} }}",
                    has_value=False)
            for n in s.values(shape, SH + "maxCount"):
                add("MaxCountConstraintComponent",
                    self._distinct_values(node, path, int(n.value) + 1), has_value=False)
            for expected in s.values(shape, SH + "hasValue"):
                add("HasValueConstraintComponent",
                    f"FILTER NOT EXISTS {{ {self.values_of(node, path, str(expected))} }}",
                    has_value=False)
            if any(f.value == "true" for f in s.values(shape, SH + "uniqueLang")):
                other = self.var("w")
                add("UniqueLangConstraintComponent",
                    f"{self.values_of(node, path, value)} {self.values_of(node, path, other)} "
                    f"FILTER (LANG({value}) != '' && LANG({value}) = LANG({other}) "
                    f"&& !sameTerm({value}, {other}))", has_value=False)
            for other_path in s.values(shape, SH + "lessThan"):
                other = self.var("w")
                add("LessThanConstraintComponent",
                    f"{self.values_of(node, path, value)} {self.values_of(node, other_path, other)} "
                    f"FILTER (!COALESCE({value} < {other}, false))")
        for kind in s.values(shape, SH + "nodeKind"):
            test = _NODE_KINDS[kind.value[len(SH):]].format(v=value)
            add("NodeKindConstraintComponent", each_value(f"!{test}"))
        for cls in s.values(shape, SH + "class"):
            add("ClassConstraintComponent",
                each_value(f"isLiteral({value}) || NOT EXISTS {{ {self.has_type(value, cls)} }}"))
        for datatype in s.values(shape, SH + "datatype"):
            test = f"!isLiteral({value}) || DATATYPE({value}) != {datatype}"
            if datatype.value in _CASTABLE:
                test += (f" || COALESCE(STR({datatype}(STR({value}))), 'ill-typed') "
                         f"= 'ill-typed'")
            add("DatatypeConstraintComponent", each_value(test))
        for n in s.values(shape, SH + "minLength"):
            add("MinLengthConstraintComponent",
                each_value(f"isBlank({value}) || STRLEN(STR({value})) < {int(n.value)}"))
        for n in s.values(shape, SH + "maxLength"):
            add("MaxLengthConstraintComponent",
                each_value(f"isBlank({value}) || STRLEN(STR({value})) > {int(n.value)}"))
        for bound, op, name in (("minInclusive", ">=", "MinInclusive"),
                                ("maxInclusive", "<=", "MaxInclusive"),
                                ("minExclusive", ">", "MinExclusive"),
                                ("maxExclusive", "<", "MaxExclusive")):
            for limit in s.values(shape, SH + bound):
                add(f"{name}ConstraintComponent",
                    each_value(f"!COALESCE({value} {op} {limit}, false)"))
        for pattern in s.values(shape, SH + "pattern"):
            flags = s.value(shape, SH + "flags")
            regex = f"REGEX(STR({value}), {Literal(pattern.value)}" + (
                f", {Literal(flags.value)})" if flags is not None else ")")
            add("PatternConstraintComponent", each_value(f"isBlank({value}) || !{regex}"))
        for languages in s.values(shape, SH + "languageIn"):
            tests = " || ".join(f"LANGMATCHES(LANG({value}), {Literal(tag.value)})"
                                for tag in s.items(languages)) or "false"
            add("LanguageInConstraintComponent",
                each_value(f"!isLiteral({value}) || !COALESCE({tests}, false)"))
        for members in s.values(shape, SH + "in"):
            tests = " || ".join(f"sameTerm({value}, {m})" for m in s.items(members)) or "false"
            add("InConstraintComponent", each_value(f"!({tests})"))
        for nested in s.values(shape, SH + "node"):
            add("NodeConstraintComponent",
                each_value(f"EXISTS {{ {self.conforms_not(nested, value)} }}"))
        for nested in s.values(shape, SH + "not"):
            add("NotConstraintComponent",
                each_value(f"NOT EXISTS {{ {self.conforms_not(nested, value)} }}"))
        for alternatives in s.values(shape, SH + "or"):
            tests = " && ".join(f"EXISTS {{ {self.conforms_not(m, value)} }}"
                                for m in s.items(alternatives)) or "true"
            add("OrConstraintComponent", each_value(tests))
        for conjuncts in s.values(shape, SH + "and"):
            tests = " || ".join(f"EXISTS {{ {self.conforms_not(m, value)} }}"
                                for m in s.items(conjuncts)) or "false"
            add("AndConstraintComponent", each_value(tests))
        return checks

    def _distinct_values(self, node: str, path, count: int) -> str:
        """A pattern with a solution iff `node` has at least `count` distinct values."""
        names = [self.var("c") for _ in range(count)]
        patterns = [self.values_of(node, path, name) for name in names]
        different = " && ".join(f"!sameTerm({a}, {b})"
                                for a, b in itertools.combinations(names, 2))
        return " ".join(f"{{ {p} }}" for p in patterns) + (
            f" FILTER ({different})" if different else "")


_COMPONENTS = frozenset(SH + n for n in (
    "minCount", "maxCount", "hasValue", "uniqueLang", "lessThan", "nodeKind", "class",
    "datatype", "minLength", "maxLength", "minInclusive", "maxInclusive", "minExclusive",
    "maxExclusive", "pattern", "languageIn", "in", "node", "not", "or", "and", "sparql"))


# Each shape's focus nodes are computed once and kept in a scratch graph of the store for
# the shape's constraint queries to start from (re-deriving them per constraint was most
# of the cost); the scratch graphs are dropped before the phase ends.
_FOCUS_GRAPH = "urn:x-parley:validation:focus:"
_IN_VIEW = NamedNode("urn:x-parley:validation:hasFocusNode")


@dataclass(frozen=True)
class _Plan:
    """One shape's work: fill its focus graph, then run its constraint queries from it."""

    shape: NamedNode | BlankNode
    graph: NamedNode  # the scratch graph of its focus nodes
    fill: str  # the update that fills it
    targets: str  # the pattern that reads it
    # (source shape, component, value variable or None, query) per constraint
    queries: tuple[tuple[NamedNode | BlankNode, str, str | None, str], ...]
    sparql: tuple[NamedNode | BlankNode, ...]  # its sh:sparql constraints


def validate(store: Store, shapes_graph: NamedNode = SHAPES_GRAPH,
             threads: int | None = None) -> list[Violation]:
    """Every top-level result of the shapes over each source graph's view.

    The shapes are independent: each reads the source graphs and its own scratch graph,
    so they run in `threads` threads (default: one per core, at most four), which
    pyoxigraph lets run at once (it releases the GIL while it evaluates). The queries are
    compiled first, in shape order, and the results sorted, so the answer does not depend
    on the threads.
    """
    shapes = _Graph(store, shapes_graph)
    compiler = Compiler(shapes, Schema(store))
    plans = []
    for index, shape in enumerate(sorted(shapes.objects, key=str)):
        focus = compiler.focus(shape)
        if focus is None:
            continue
        graph = NamedNode(f"{_FOCUS_GRAPH}{index}")
        targets = f"GRAPH {graph} {{ ?g {_IN_VIEW} ?this }}"
        queries = []
        for source, component, pattern, value in compiler.violations(shape, "?this"):
            projected = f"?g ?this {value}" if value and value != "?this" else "?g ?this"
            queries.append((source, component, value, f"PREFIX xsd: <{XSD}>\nSELECT DISTINCT "
                                                       f"{projected} WHERE {{ {targets} {pattern} }}"))
        plans.append(_Plan(
            shape, graph,
            # View first: a literal can be a focus node (RDFS types the object of a
            # property by its range) but not the subject of a quad.
            fill=(f"INSERT {{ GRAPH {graph} {{ ?g {_IN_VIEW} ?this }} }} "
                  f"WHERE {{ SELECT DISTINCT ?g ?this WHERE {{ {focus} }} }}"),
            targets=targets, queries=tuple(queries),
            sparql=tuple(shapes.values(shape, SH + "sparql"))))
    found: set[Violation] = set()
    try:
        with ThreadPoolExecutor(threads or min(4, os.cpu_count() or 1)) as pool:
            for violations in pool.map(lambda plan: _run(store, shapes, plan), plans):
                found.update(violations)
        # sh:sparql constraints read the union of all graphs, scratch graphs included:
        # run after every focus graph is filled, so that each sees the same graphs.
        for plan in plans:
            for constraint in plan.sparql:
                found.update(_sparql_violations(store, shapes, plan.shape, plan.targets, constraint))
    finally:
        for plan in plans:
            store.remove_graph(plan.graph)
    return sorted(found, key=lambda v: (v.graph.value, str(v.focus), str(v.path or ""),
                                        v.component, str(v.value or "")))


def _run(store: Store, shapes: _Graph, plan: _Plan) -> list[Violation]:
    store.update(plan.fill)
    found = []
    for source, component, value, query in plan.queries:
        for row in store.query(query):
            found.append(_violation(shapes, row, source, component,
                                    row[value[1:]] if value else None))
    return found


def _violation(shapes: _Graph, row, source, component: str, value) -> Violation:
    path = shapes.value(source, SH + "path")
    named = source if isinstance(source, NamedNode) else shapes.owner.get(source, source)
    severity = shapes.value(source, SH + "severity")
    messages = tuple(sorted(m.value for m in shapes.values(source, SH + "message")))
    return Violation(graph=row["g"], focus=row["this"], shape=named, path=path,
                     component=component, messages=messages,
                     value=value, severity=severity.value if severity else VIOLATION)


def _sparql_violations(store: Store, shapes: _Graph, shape, targets: str,
                       constraint) -> list[Violation]:
    """An sh:sparql constraint: its SELECT over every graph, kept for the shape's targets.

    The SELECT runs once over the union of the graphs (not once per focus node, as the
    specification words it) and its `$this` rows are joined with the targets; a
    constraint that compares across sources could therefore see more than one view.
    """
    select = shapes.value(constraint, SH + "select")
    views = defaultdict(set)
    for row in store.query(f"SELECT DISTINCT ?g ?this WHERE {{ {targets} }}"):
        views[row["this"]].add(row["g"])
    if not views:
        return []
    messages = [m.value for m in shapes.values(constraint, SH + "message")]
    severity = shapes.value(constraint, SH + "severity") or shapes.value(shape, SH + "severity")
    solutions = store.query(select.value, use_default_graph_as_union=True)
    names = [v.value for v in solutions.variables]
    found = []
    for row in solutions:
        bound = {name: row[name] for name in names if row[name] is not None}
        text = tuple(sorted(_substitute(m, bound) for m in messages))
        for graph in views.get(row["this"], ()):
            found.append(Violation(graph=graph, focus=row["this"], shape=shape,
                                   path=bound.get("path"),
                                   component=SH + "SPARQLConstraintComponent", messages=text,
                                   value=bound.get("value", row["this"]),
                                   severity=severity.value if severity else VIOLATION))
    return found


def _substitute(message: str, bound: dict) -> str:
    """`{?name}` and `{$name}` in an sh:message, replaced by the row's values."""
    return re.sub(r"\{[?$](\w+)\}",
                  lambda m: bound[m[1]].value if m[1] in bound else m[0], message)
