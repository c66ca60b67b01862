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
ENV_WIKIDATA_ENDPOINT = "PARLEY_WIKIDATA_ENDPOINT"
DEFAULT_STORE = Path("var/store")
# A build works in memory up to this many quads, on disk beyond (kg/store.py, load_staged).
# Measured at 1M triples: about 400 MiB for the store, 0.9 GiB peak for the whole build
# (docs/scaling.md); 3M keeps a build near 2.5 GiB.
DEFAULT_IN_MEMORY_QUADS = 3_000_000


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
    # Wikidata linking: offline against the corpus's extract, online only when asked.
    online: bool = False
    wikidata_endpoint: str | None = None
    # Where the linker writes candidates it could not decide; None writes nothing (kg check).
    review: Path | None = None
    # Quads up to which the build works on an in-memory copy of the data (much faster);
    # beyond, it works in the on-disk staging store. 0 always works on disk.
    in_memory_up_to: int = DEFAULT_IN_MEMORY_QUADS

    @property
    def wikidata_cache(self) -> Path:
        """Answers of the online linker, kept beside the store so rebuilds do not ask again."""
        return self.store.with_name(self.store.name + ".wikidata-cache")


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
                   online: bool = False,
                   wikidata_endpoint: str | None = None,
                   review: str | os.PathLike | None = None,
                   write_review: bool = True,
                   in_memory_up_to: int | None = None,
                   environ: Mapping[str, str] = os.environ) -> BuildSettings:
    """`review` defaults to `link-review.tsv` beside the store; `write_review=False` (kg
    check) writes none. A Wikidata endpoint (option or `$PARLEY_WIKIDATA_ENDPOINT`) implies
    online linking."""
    store_dir = store_path(store, environ)
    endpoint = wikidata_endpoint or environ.get(ENV_WIKIDATA_ENDPOINT) or None
    if review is not None:
        review_path = Path(review)
    else:
        review_path = store_dir.with_name(store_dir.name + ".link-review.tsv")
    return BuildSettings(
        store=store_dir,
        corpus=Path(corpus) if corpus is not None else packaged_corpus(),
        ontology=Path(ontology) if ontology is not None else packaged_ontology(),
        java=java_path(environ),
        online=online or endpoint is not None,
        wikidata_endpoint=endpoint,
        review=review_path if write_review else None,
        in_memory_up_to=DEFAULT_IN_MEMORY_QUADS if in_memory_up_to is None else in_memory_up_to,
    )
