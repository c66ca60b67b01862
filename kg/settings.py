"""Settings of the library, frozen and assembled once at the edge (CLI options, env vars)."""
from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

ENV_STORE = "PARLEY_STORE"
ENV_JAVA = "PARLEY_JAVA"
DEFAULT_STORE = Path("var/store")


@dataclass(frozen=True)
class BuildSettings:
    """What one build (or check) reads and where it writes."""

    store: Path
    corpus: Path
    ontology: Path
    # The Java executable HermiT runs on; None (or a path that does not exist) skips reasoning.
    java: str | None
    # Builds kept besides the current one; older ones are deleted after a successful swap.
    keep_previous: int = 2


def packaged_corpus() -> Path:
    return Path(str(files("parley.data")))


def packaged_ontology() -> Path:
    return Path(str(files("parley.ontology")))


def store_path(store: str | os.PathLike | None = None,
               environ: Mapping[str, str] = os.environ) -> Path:
    """`--store` if given, else `$PARLEY_STORE`, else `./var/store`."""
    if store is not None:
        return Path(store)
    if environ.get(ENV_STORE):
        return Path(environ[ENV_STORE])
    return DEFAULT_STORE


def java_path(environ: Mapping[str, str] = os.environ) -> str | None:
    return environ.get(ENV_JAVA) or shutil.which("java")


def build_settings(store: str | os.PathLike | None = None,
                   corpus: str | os.PathLike | None = None,
                   ontology: str | os.PathLike | None = None,
                   environ: Mapping[str, str] = os.environ) -> BuildSettings:
    return BuildSettings(
        store=store_path(store, environ),
        corpus=Path(corpus) if corpus is not None else packaged_corpus(),
        ontology=Path(ontology) if ontology is not None else packaged_ontology(),
        java=java_path(environ),
    )
