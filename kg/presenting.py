"""Saved-query answers and the catalog as text for the command line: table, json, csv, tsv."""
from __future__ import annotations

import textwrap
from collections.abc import Sequence

from pyoxigraph import BlankNode, Literal, NamedNode, QuerySolutions, Store

from parley.kg.catalog import Catalog
from parley.kg.errors import ParameterError
from parley.kg.namespaces import shorten
from parley.kg.querying import RESULT_FORMATS, run_saved_query, serialize_results

OUTPUT_FORMATS = ("table", *RESULT_FORMATS)

# Evidence quotes run to a few hundred characters; wrapping keeps a row on one screen.
_CELL_WIDTH = 60


def parse_param_options(items: Sequence[str]) -> dict[str, str]:
    """`["actor=pid:hamas", ...]` (repeated `--param KEY=VALUE`) as a dict."""
    params: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise ParameterError(f"--param '{item}' is not of the form KEY=VALUE")
        if name in params:
            raise ParameterError(f"parameter '{name}' is given twice")
        params[name] = value
    return params


def present_query(store: Store, catalog: Catalog, query_id: str, params: Sequence[str],
                  fmt: str = "table") -> bytes:
    """The body of `kg query NAME --param KEY=VALUE ... --format FMT`."""
    if fmt not in OUTPUT_FORMATS:
        raise ParameterError(f"unknown format '{fmt}' (one of: {', '.join(OUTPUT_FORMATS)})")
    results = run_saved_query(store, catalog.get(query_id), parse_param_options(params))
    if fmt == "table":
        return render_table(results).encode("utf-8")
    return serialize_results(results, fmt)


def present_catalog(catalog: Catalog) -> str:
    """The body of `kg query --list`: id, title and parameters of every saved query."""
    width = max((len(q.id) for q in catalog), default=0)
    lines = []
    for query in catalog:
        lines.append(f"{query.id:<{width}}  {query.title}")
        if query.question:
            lines.append(f"{'':<{width}}  asks: {query.question}")
        for p in query.parameters:
            default = "required" if p.required else f"default {p.default}"
            lines.append(f"{'':<{width}}  --param {p.name}=<{p.type}>  ({default})")
    return "\n".join(lines) + "\n"


def render_table(results: QuerySolutions) -> str:
    names = [v.value for v in results.variables]
    cells = [[_wrap(_cell(solution[name])) for name in names] for solution in results]
    widths = [max([len(name), *(len(line) for row in cells for line in row[i])])
              for i, name in enumerate(names)]
    out = ["  ".join(n.ljust(w) for n, w in zip(names, widths)).rstrip(),
           "  ".join("-" * w for w in widths)]
    for row in cells:
        for k in range(max((len(c) for c in row), default=1)):
            out.append("  ".join((c[k] if k < len(c) else "").ljust(w)
                                 for c, w in zip(row, widths)).rstrip())
    out.append(f"({len(cells)} row{'s' if len(cells) != 1 else ''})")
    return "\n".join(out) + "\n"


def _cell(term) -> str:
    if term is None:
        return ""
    if isinstance(term, NamedNode):
        return shorten(term.value)
    if isinstance(term, BlankNode):
        return f"_:{term.value}"
    if isinstance(term, Literal):
        return term.value
    return str(term)


def _wrap(text: str) -> list[str]:
    lines = []
    for paragraph in text.splitlines() or [""]:
        lines.extend(textwrap.wrap(paragraph, _CELL_WIDTH, break_on_hyphens=False) or [""])
    return lines
