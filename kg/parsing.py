"""Parse Turtle files into the store and find where a term is written in them."""
from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pyoxigraph import NamedNode, Quad, RdfFormat, Store, parse

from .corpus import RdfFile
from .errors import DataError, ValidationError

_PREFIX = re.compile(r"^\s*(?:@prefix|PREFIX)\s+([A-Za-z][\w.-]*)?:\s*<([^>]*)>", re.M | re.I)


@dataclass
class SourceMap:
    """The text of one Turtle file, for turning IRIs back into `line:col` positions.

    pyoxigraph reports positions of syntax errors only, so the position of a term in a
    valid file is found by scanning the text for the term as written: `prefix:local`
    under the file's own prefixes, or `<iri>`. The text is read on first use: a build
    that finds no problem never holds its files' text in memory (a million triples are
    about 100 MB of Turtle), and one that does reads only the files it reports on.
    """

    path: Path
    _text: str | None = field(default=None, repr=False)
    _prefixes: dict[str, str] | None = field(default=None, repr=False)

    @classmethod
    def read(cls, path: Path) -> "SourceMap":
        return cls(path)

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = self.path.read_text(encoding="utf-8")
        return self._text

    @property
    def prefixes(self) -> dict[str, str]:
        if self._prefixes is None:
            self._prefixes = {m.group(1) or "": m.group(2) for m in _PREFIX.finditer(self.text)}
        return self._prefixes

    @functools.cached_property
    def _line_starts(self) -> list[int]:
        return [0] + [m.end() for m in re.finditer("\n", self.text)]

    def position(self, offset: int) -> tuple[int, int]:
        """1-based line and column of a character offset."""
        line = bisect.bisect_right(self._line_starts, offset) - 1
        return line + 1, offset - self._line_starts[line] + 1

    def spellings(self, iri: str) -> list[str]:
        written = [f"<{iri}>"]
        for prefix, namespace in self.prefixes.items():
            if iri.startswith(namespace) and len(iri) > len(namespace):
                written.append(f"{prefix}:{iri[len(namespace):]}")
        return written

    def occurrences(self, iri: str) -> list[int]:
        """Offsets where the term is written, outside comments, in file order."""
        found = []
        for spelling in self.spellings(iri):
            pattern = re.escape(spelling)
            if not spelling.startswith("<"):
                pattern = r"(?<![\w:.-])" + pattern + r"(?![\w:-]|\.[\w-])"
            for match in re.finditer(pattern, self.text):
                if not self._in_comment(match.start()):
                    found.append(match.start())
        return sorted(found)

    def locate(self, iri: str) -> tuple[int, int] | None:
        """Where the term is described: at the start of a line (a subject) if it is one."""
        offsets = self.occurrences(iri)
        if not offsets:
            return None
        subjects = [o for o in offsets if self.position(o)[1] == 1]
        return self.position((subjects or offsets)[0])

    def statement_span(self, offset: int) -> tuple[int, int]:
        """The Turtle statement around an offset: from its subject line to its final dot."""
        line = self.position(offset)[0] - 1
        while line > 0 and not self._starts_statement(line):
            line -= 1
        end = re.compile(r"\.\s*(?:#.*)?$", re.M).search(self.text, offset)
        return self._line_starts[line], end.end() if end else len(self.text)

    def _starts_statement(self, line: int) -> bool:
        start = self._line_starts[line]
        first = self.text[start:start + 1]
        return bool(first) and not first.isspace() and first not in "#)]"

    def _in_comment(self, offset: int) -> bool:
        start = self._line_starts[self.position(offset)[0] - 1]
        before = self.text[start:offset]
        # A '#' inside an IRI or a string is not a comment; this heuristic covers those two.
        stripped = re.sub(r'<[^>]*>|"[^"]*"', "", before)
        return "#" in stripped


@dataclass
class SourceMaps:
    """The source maps of every parsed file, by path and by named graph."""

    by_path: dict[Path, SourceMap] = field(default_factory=dict)
    by_graph: dict[NamedNode, list[SourceMap]] = field(default_factory=dict)

    def add(self, rdf_file: RdfFile, source_map: SourceMap) -> None:
        self.by_path[rdf_file.path] = source_map
        self.by_graph.setdefault(rdf_file.graph, []).append(source_map)

    def locate(self, iri: str, graph: NamedNode) -> tuple[Path | None, int | None, int | None]:
        """The first file of the graph that writes the term, with the term's position."""
        maps = self.by_graph.get(graph, [])
        for source_map in reversed(maps):  # curated files come after metadata; prefer them
            position = source_map.locate(iri)
            if position:
                return source_map.path, *position
        return (maps[-1].path if maps else None), None, None


class FileStream:
    """The quads of many Turtle files, each in its named graph, parsed as they are consumed.

    A file with a syntax error is recorded and skipped, so that one pass reports every
    syntax error with its `file:line:col`; `check()` raises them once the stream is used
    up. The triples a broken file yielded before its error do no harm: the build then
    fails and its staged store is deleted.
    """

    def __init__(self, files: list[RdfFile]):
        self.files = files
        self.maps = SourceMaps()
        self.problems: list[DataError] = []
        self.count = 0  # quads: yielded by quads(), duplicates included; distinct after load()

    def quads(self) -> Iterator[Quad]:
        for rdf_file in self.files:
            graph = rdf_file.graph
            try:
                for triple in parse(path=rdf_file.path, format=RdfFormat.TURTLE):
                    self.count += 1
                    yield Quad(triple.subject, triple.predicate, triple.object, graph)
            except (SyntaxError, UnicodeDecodeError) as error:
                self._failed(rdf_file, error)
                continue
            self.maps.add(rdf_file, SourceMap.read(rdf_file.path))

    def _failed(self, rdf_file: RdfFile, error: SyntaxError | UnicodeDecodeError) -> None:
        if isinstance(error, UnicodeDecodeError):
            self.problems.append(DataError(f"not UTF-8: {error.reason}", path=rdf_file.path))
        else:
            self.problems.append(DataError(_syntax_message(error), path=rdf_file.path,
                                           line=error.lineno, col=error.offset))

    def load(self, store: Store, up_to: int | None = None) -> bool:
        """Parse every file straight into its graph of `store`, by pyoxigraph's own parser.

        Several times faster than `quads()` (no Python object per triple), but the count
        is of distinct quads, and blank nodes get new labels (their scope is the file,
        so that changes nothing). Returns False, having stopped, once `store` holds more
        than `up_to` quads (looked at whenever the text read grows by a quarter, and at the
        end).
        """
        read = 0
        look_at = 4 * 2**20
        for rdf_file in self.files:
            try:
                store.load(path=rdf_file.path, format=RdfFormat.TURTLE, to_graph=rdf_file.graph)
            except SyntaxError as error:
                self._failed(rdf_file, error)
                continue
            self.maps.add(rdf_file, SourceMap.read(rdf_file.path))
            read += rdf_file.path.stat().st_size
            if up_to is not None and read >= look_at:
                look_at = read * 5 // 4
                if len(store) > up_to:
                    return False
        self.count = len(store)
        return up_to is None or self.count <= up_to

    def restart(self) -> None:
        """Forget what was read, to read the files again."""
        self.maps, self.problems, self.count = SourceMaps(), [], 0

    def check(self) -> SourceMaps:
        """The source maps of the files, or every syntax error found while streaming."""
        if self.problems:
            raise ValidationError("parse", self.problems)
        return self.maps


def load_files(store: Store, files: list[RdfFile]) -> SourceMaps:
    """Stream every file into its named graph in one bulk load; all syntax errors together.

    One `bulk_extend` over all files, not one `bulk_load` per file: on disk each bulk
    load writes and ingests its own RocksDB files, a fixed cost that made a corpus of
    2,000 sources spend most of its build here.
    """
    stream = FileStream(files)
    store.bulk_extend(stream.quads())
    return stream.check()


def _syntax_message(error: SyntaxError) -> str:
    # pyoxigraph's message repeats the position the DataError already shows in front.
    message = error.msg or str(error)
    return "syntax error: " + re.sub(r"^Parser error at line \d+ between columns \d+ and \d+: ",
                                     "", message)
