"""The one error hierarchy of parley.kg: every failure a user can act on is a KGError."""
from __future__ import annotations

import os
from pathlib import Path


class KGError(Exception):
    """Root of every error the library raises on purpose; `exit_code` is the CLI's."""

    exit_code = 1


class DataError(KGError):
    """A problem in a source file, reported as `path:line:col: message` plus a hint."""

    exit_code = 1

    def __init__(self, message: str, path: str | os.PathLike | None = None,
                 line: int | None = None, col: int | None = None, hint: str | None = None):
        self.message = message
        self.path = Path(path) if path is not None else None
        self.line = line
        self.col = col
        self.hint = hint
        super().__init__(self.format())

    @property
    def location(self) -> str:
        if self.path is None:
            return ""
        parts = [display_path(self.path)]
        if self.line is not None:
            parts.append(str(self.line))
            if self.col is not None:
                parts.append(str(self.col))
        return ":".join(parts)

    def format(self) -> str:
        text = f"{self.location}: {self.message}" if self.path is not None else self.message
        if self.hint:
            text += f"\n    hint: {self.hint}"
        return text


class ValidationError(DataError):
    """Every problem one phase found, reported together so one run shows them all."""

    def __init__(self, phase: str, problems: list[DataError]):
        self.phase = phase
        self.problems = list(problems)
        count = len(self.problems)
        heading = f"{phase}: {count} problem{'s' if count != 1 else ''}"
        KGError.__init__(self, "\n".join([heading, *(p.format() for p in self.problems)]))
        self.message, self.path, self.line, self.col, self.hint = heading, None, None, None, None

    def format(self) -> str:
        return str(self)


class UsageError(KGError):
    """The command was called wrongly (bad option value, missing file argument)."""

    exit_code = 2


class StoreError(KGError):
    """The store is missing, locked by another build, or not a store Parley can replace."""

    exit_code = 1


class QueryError(KGError):
    """An unknown saved query or a SPARQL query that cannot be parsed."""

    exit_code = 2


class ParameterError(QueryError):
    """A saved-query parameter that is missing, unknown or of the wrong kind."""

    exit_code = 2


def display_path(path: Path) -> str:
    # Paths under the working directory read best relative (clickable in editors and CI logs).
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
