"""The saved-query catalog: the `.rq` files of a folder and the metadata in their headers."""
from __future__ import annotations

import datetime
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

from pyoxigraph import Literal, NamedNode

from parley.kg.errors import DataError, ParameterError, QueryError
from parley.kg.namespaces import PREFIXES, XSD

PARAMETER_TYPES = ("iri", "string", "integer", "date", "boolean")

_TOP_KEYS = ("title", "question", "description", "tags", "order", "param")
_PARAM_KEYS = ("type", "default", "example", "description")
_REQUIRED_TOP_KEYS = ("title", "description")

# The id is a URL path segment and a file name on every platform.
_QUERY_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
# A SPARQL VARNAME restricted to ASCII, so that the name is also a safe query-string key.
_PARAMETER_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_META = re.compile(r"#\+ ?(?P<indent> *)(?P<content>.*?)\s*$")
_KEY_LINE = re.compile(r"(?P<key>[A-Za-z_]+):(?:\s+(?P<value>.*))?$")

# Schemes a caller may name without a prefix; anything else must be a project CURIE, so a
# typo such as `pdi:hamas` is refused rather than read as an IRI with the scheme `pdi`.
_IRI_SCHEMES = ("http", "https", "urn")
_CURIE = re.compile(r"(?P<prefix>[A-Za-z][A-Za-z0-9_-]*):(?P<local>[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_-])?)")
_INTEGER = re.compile(r"[+-]?[0-9]+")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class Parameter:
    """One typed parameter of a saved query; its name is a projected variable of the query."""

    name: str
    type: str
    default: str | None = None
    example: str | None = None
    description: str = ""

    @property
    def required(self) -> bool:
        return self.default is None

    def to_term(self, value: object) -> NamedNode | Literal:
        """The RDF term for `value` (text as typed on a command line or URL, or a Python value)."""
        convert = _CONVERTERS[self.type]
        return convert(self.name, value)

    def describe(self) -> dict:
        return {"name": self.name, "type": self.type, "required": self.required,
                "default": self.default, "example": self.example,
                "description": self.description}


@dataclass(frozen=True)
class SavedQuery:
    """A saved query: its id (the file stem), header metadata and the SPARQL text."""

    id: str
    title: str
    description: str
    text: str
    path: Path
    question: str | None = None
    tags: tuple[str, ...] = ()
    parameters: tuple[Parameter, ...] = ()
    # Where the query stands among its peers when shown together (the article's questions
    # in the article's order); None sorts after every numbered query.
    order: int | None = None

    def parameter(self, name: str) -> Parameter:
        for parameter in self.parameters:
            if parameter.name == name:
                return parameter
        known = ", ".join(p.name for p in self.parameters) or "none"
        raise ParameterError(
            f"unknown parameter '{name}' for saved query '{self.id}' (its parameters: {known})")

    def describe(self) -> dict:
        """The metadata as plain JSON-ready data, the same for every surface."""
        return {"id": self.id, "title": self.title, "question": self.question,
                "description": self.description, "tags": list(self.tags),
                "order": self.order, "parameters": [p.describe() for p in self.parameters]}


@dataclass(frozen=True)
class Catalog:
    """The saved queries of one folder, in id order."""

    queries: tuple[SavedQuery, ...]
    directory: Path | None = None
    _by_id: Mapping[str, SavedQuery] = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "_by_id", {q.id: q for q in self.queries})

    def __iter__(self) -> Iterator[SavedQuery]:
        return iter(self.queries)

    def __len__(self) -> int:
        return len(self.queries)

    def __contains__(self, query_id: object) -> bool:
        return query_id in self._by_id

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(q.id for q in self.queries)

    def get(self, query_id: str) -> SavedQuery:
        try:
            return self._by_id[query_id]
        except KeyError:
            raise QueryError(f"unknown saved query '{query_id}' "
                             f"(known: {', '.join(self.ids) or 'none'})") from None


def packaged_queries() -> Path:
    return Path(str(files("parley.queries")))


def load_catalog(directory: str | Path | None = None) -> Catalog:
    """Every `*.rq` file of `directory` (default: the packaged `queries/`)."""
    folder = Path(directory) if directory is not None else packaged_queries()
    if not folder.is_dir():
        raise QueryError(f"{folder}: no such folder of saved queries")
    return Catalog(tuple(load_query(path) for path in sorted(folder.glob("*.rq"))), folder)


def load_query(path: str | Path) -> SavedQuery:
    path = Path(path)
    if not _QUERY_ID.fullmatch(path.stem):
        raise DataError(f"'{path.stem}' is not a saved-query id",
                        path, hint="use lowercase letters, digits and single hyphens")
    text = path.read_text(encoding="utf-8")
    header = _parse_header(text, path)
    body = _body(text)
    parameters = tuple(_parameter(block, path, body) for block in header.params)
    seen: set[str] = set()
    for block, parameter in zip(header.params, parameters):
        if parameter.name in seen:
            raise DataError(f"parameter '{parameter.name}' is declared twice", path, block.line)
        seen.add(parameter.name)
    tags = tuple(t.strip() for t in header.get("tags", "").split(",") if t.strip())
    order = header.get("order")
    if order is not None and not re.fullmatch(r"\d+", order.strip()):
        raise DataError(f"'order: {order}' is not a whole number", path,
                        hint="write e.g. '#+ order: 2' (smaller numbers come first)")
    return SavedQuery(id=path.stem, title=header.get("title"),
                      description=header.get("description"), text=text, path=path,
                      question=header.get("question"), tags=tags, parameters=parameters,
                      order=int(order) if order is not None else None)


@dataclass
class _Block:
    """The keys of one header section (the top level or one `param`) with their lines."""

    line: int
    values: dict[str, str] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)

    def get(self, key: str, default=None):
        return self.values.get(key, default)


@dataclass
class _Header(_Block):
    params: list[_Block] = field(default_factory=list)


def _header_lines(text: str) -> Iterator[tuple[int, str]]:
    """The leading comment block, numbered from 1; blank lines do not end it."""
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            return
        yield number, stripped


def _body(text: str) -> str:
    lines = text.splitlines()
    count = sum(1 for _ in _header_lines(text))
    return "\n".join(lines[count:])


def _parse_header(text: str, path: Path) -> _Header:
    header = _Header(line=1)
    block: _Block | None = None          # the `param` block being read
    current: tuple[_Block, str, int] | None = None   # the key a deeper line continues
    for number, line in _header_lines(text):
        if not line.startswith("#+"):
            continue
        meta = _META.fullmatch(line)
        indent, content = len(meta["indent"]), meta["content"]
        if not content:
            continue
        if indent == 0:
            key, value = _key_value(content, _TOP_KEYS, path, number)
            if key == "param":
                block = _Block(line=number, values={"name": value}, lines={"name": number})
                header.params.append(block)
                current = None
            else:
                _store(header, key, value, path, number)
                block, current = None, (header, key, 0)
        elif current is not None and indent > current[2]:
            target, key, _ = current
            target.values[key] = f"{target.values[key]} {content}".strip()
        elif block is not None:
            key, value = _key_value(content, _PARAM_KEYS, path, number)
            _store(block, key, value, path, number)
            current = (block, key, indent)
        else:
            raise DataError("indented header line continues nothing", path, number,
                            hint="indent only continuation lines and the keys of a `param`")
    for key in _REQUIRED_TOP_KEYS:
        if not header.get(key):
            raise DataError(f"the header has no `#+ {key}:` line", path, 1)
    return header


def _key_value(content: str, keys: tuple[str, ...], path: Path, number: int) -> tuple[str, str]:
    match = _KEY_LINE.fullmatch(content)
    if match is None or match["key"] not in keys:
        found = f"'{match['key']}'" if match else f"'{content}'"
        raise DataError(f"unknown header key {found}", path, number,
                        hint=f"expected one of: {', '.join(keys)}")
    return match["key"], (match["value"] or "").strip()


def _store(block: _Block, key: str, value: str, path: Path, number: int) -> None:
    if key in block.values:
        raise DataError(f"`{key}` is given twice (first on line {block.lines[key]})",
                        path, number)
    block.values[key], block.lines[key] = value, number


def _parameter(block: _Block, path: Path, body: str) -> Parameter:
    name = block.get("name")
    if not _PARAMETER_NAME.fullmatch(name or ""):
        raise DataError(f"'{name}' is not a parameter name", path, block.line,
                        hint="a SPARQL variable name: letters, digits and underscores")
    kind = block.get("type")
    if kind not in PARAMETER_TYPES:
        raise DataError(f"parameter '{name}' has type '{kind}'" if kind
                        else f"parameter '{name}' has no type", path,
                        block.lines.get("type", block.line),
                        hint=f"one of: {', '.join(PARAMETER_TYPES)}")
    if not re.search(rf"[?$]{name}\b", body):
        raise DataError(f"parameter '{name}' is not a variable of the query", path,
                        block.line, hint=f"use ?{name} in the query and project it")
    parameter = Parameter(name=name, type=kind, default=block.get("default"),
                          example=block.get("example"),
                          description=block.get("description", ""))
    for key in ("default", "example"):
        if block.get(key) is not None:
            try:
                parameter.to_term(block.get(key))
            except ParameterError as error:
                raise DataError(f"the {key} does not fit: {error}", path,
                                block.lines[key]) from None
    return parameter


def _iri(name: str, value: object) -> NamedNode:
    if isinstance(value, NamedNode):
        return value
    if isinstance(value, str):
        curie = _CURIE.fullmatch(value)
        if curie and curie["prefix"] in PREFIXES:
            return NamedNode(PREFIXES[curie["prefix"]] + curie["local"])
        scheme = value.split(":", 1)[0].lower() if ":" in value else None
        if scheme in _IRI_SCHEMES and not any(c.isspace() for c in value):
            try:
                return NamedNode(value)
            except ValueError:
                pass
    raise ParameterError(
        f"parameter '{name}': {_show(value)} is not an IRI; give an absolute "
        f"{'/'.join(_IRI_SCHEMES)} IRI or a CURIE with one of the prefixes "
        f"{', '.join(p + ':' for p in PREFIXES)}")


def _string(name: str, value: object) -> Literal:
    if isinstance(value, str):
        return Literal(value)
    raise ParameterError(f"parameter '{name}': expected text, got {_show(value)}")


def _integer(name: str, value: object) -> Literal:
    if isinstance(value, int) and not isinstance(value, bool):
        return Literal(value)
    if isinstance(value, str) and _INTEGER.fullmatch(value):
        return Literal(int(value))
    raise ParameterError(f"parameter '{name}': {_show(value)} is not an integer")


def _date(name: str, value: object) -> Literal:
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return Literal(value.isoformat(), datatype=NamedNode(XSD + "date"))
    if isinstance(value, str) and _DATE.fullmatch(value):
        try:
            return Literal(datetime.date.fromisoformat(value).isoformat(),
                           datatype=NamedNode(XSD + "date"))
        except ValueError:
            pass
    raise ParameterError(
        f"parameter '{name}': {_show(value)} is not a date of the form YYYY-MM-DD")


def _boolean(name: str, value: object) -> Literal:
    if isinstance(value, bool):
        return Literal(value)
    if value in ("true", "false"):
        return Literal(value == "true")
    raise ParameterError(f"parameter '{name}': {_show(value)} is not a boolean "
                         "(true or false)")


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


_CONVERTERS = {"iri": _iri, "string": _string, "integer": _integer, "date": _date,
               "boolean": _boolean}
