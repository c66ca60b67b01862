"""The build pipeline: phases from parsing to provenance, then a staged store swapped in."""
from __future__ import annotations

import shutil
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from pyoxigraph import NamedNode, Store

from . import corpus as corpus_module
from . import evidence, provenance, shapes, vocabulary
from .corpus import Corpus
from .errors import ValidationError
from .linking import LinkReport, LinkSettings, run_link
from .listing import write_ranks
from .parsing import FileStream, SourceMaps
from .reasoning import ReasoningReport, reason
from .settings import BuildSettings
from .store import (StagingWrite, build_lock, fill_default_graph, load_staged, new_staging_dir,
                    publish, remove_stale_staging, write_derived)
from .wikidata import DEFAULT_ENDPOINT


# Above this many quads in the store after parsing, or this many sources, the shapes are
# checked with the SHACL constraints compiled to SPARQL (kg/constraints.py) instead of
# pySHACL, and entailments are materialised with rules over the store (kg/rules.py)
# instead of HermiT over the whole ABox. Below both the reference implementations run: a
# single article takes seconds with them, and tests check that both paths agree there
# (tests/test_scale_paths.py). pySHACL validates source by source, about a second each
# with the ontology under RDFS: the generated 10k corpus (23 sources, 12,120 quads) took
# 24 s in its shapes phase that way, against 1.3 s for the 100k corpus compiled.
SCALE_THRESHOLD_QUADS = 25_000
SCALE_THRESHOLD_SOURCES = 4


@dataclass
class PhaseTiming:
    name: str
    seconds: float
    counts: dict[str, int] = field(default_factory=dict)


@dataclass
class BuildReport:
    """What a build or check did: per-phase timings and counts, warnings, where it wrote."""

    started: datetime
    phases: list[PhaseTiming] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    reasoning: ReasoningReport | None = None
    linking: LinkReport | None = None
    graphs: dict[str, int] = field(default_factory=dict)
    build_dir: Path | None = None

    @property
    def seconds(self) -> float:
        return sum(p.seconds for p in self.phases)


@dataclass
class BuildContext:
    """State the phases share; each phase reads what earlier ones left here.

    `store` is the store the phases work in. A build also has `staging`, the on-disk
    store it will publish: parsing writes the files' quads there and keeps `store` an
    in-memory copy when they fit (kg/store.py, load_staged). Phases after parsing add
    graphs to `store` and never change the `parsed` ones; the commit copies what they
    added to `staging`. `kg check` has no staging store and works in memory throughout.
    """

    settings: BuildSettings
    store: Store
    report: BuildReport
    staging: Store | None = None
    corpus: Corpus | None = None
    maps: SourceMaps | None = None
    quads: int = 0
    parsed: set[NamedNode] = field(default_factory=set)
    # The parsed quads still being written to `staging` in the background (kg/store.py).
    writing: StagingWrite | None = None

    @property
    def in_memory(self) -> bool:
        return self.store is not self.staging

    @property
    def at_scale(self) -> bool:
        sources = len(self.corpus.sources) if self.corpus is not None else 0
        return self.quads > SCALE_THRESHOLD_QUADS or sources > SCALE_THRESHOLD_SOURCES


@dataclass(frozen=True)
class Phase:
    """One step of the pipeline; `run` raises a KGError to fail the build, returns counts."""

    name: str
    run: Callable[[BuildContext], dict[str, int] | None]


class Progress:
    """Observer of the pipeline; the CLI shows it on a terminal. The default says nothing."""

    def phase_started(self, name: str, index: int, total: int) -> None:
        pass

    def phase_finished(self, timing: PhaseTiming) -> None:
        pass


def _discover(ctx: BuildContext):
    ctx.corpus = corpus_module.discover(ctx.settings.corpus, ctx.settings.ontology)
    return {"sources": len(ctx.corpus.sources)}


def _parse(ctx: BuildContext):
    files = ctx.corpus.rdf_files()
    stream = FileStream(files)
    if ctx.staging is None:
        stream.load(ctx.store)
    else:
        ctx.store, ctx.writing = load_staged(stream, ctx.staging, ctx.settings.in_memory_up_to)
    ctx.maps = stream.check()
    ctx.parsed = {f.graph for f in files}
    ctx.quads = stream.count
    where = "quads in memory" if ctx.in_memory else "quads on disk"
    return {"files": len(ctx.maps.by_path), where: ctx.quads}


def _vocabulary(ctx: BuildContext):
    problems = vocabulary.check_declared(ctx.store, ctx.maps)
    if problems:
        raise ValidationError("vocabulary", problems)


def _evidence(ctx: BuildContext):
    problems = evidence.check_quotes(ctx.store, ctx.corpus, ctx.maps)
    problems += evidence.check_every_subject_evidenced(ctx.store, ctx.maps)
    if problems:
        raise ValidationError("evidence", problems)


def _shapes(ctx: BuildContext):
    result = shapes.check_shapes(ctx.store, ctx.corpus, ctx.maps, compiled=ctx.at_scale)
    ctx.report.warnings += result.warnings
    if result.errors:
        raise ValidationError("shapes", result.errors)
    return {"warnings": len(result.warnings)}


def _reasoning(ctx: BuildContext):
    result = reason(ctx.store, ctx.corpus, ctx.maps, ctx.settings.java, rules=ctx.at_scale)
    ctx.report.reasoning = result
    ctx.report.warnings += result.warnings
    return {"inferred": result.inferred}


def link_settings(settings: BuildSettings) -> LinkSettings | None:
    """The linker's settings for a corpus; None when the corpus has no Wikidata extract."""
    extract = settings.corpus / "wikidata" / "wikidata-extract.ttl"
    if not extract.is_file():
        return None
    decisions = settings.corpus / "links" / "decisions.ttl"
    return LinkSettings(extract=extract, decisions=decisions if decisions.is_file() else None,
                        review=settings.review, online=settings.online,
                        endpoint=settings.wikidata_endpoint or DEFAULT_ENDPOINT,
                        cache_dir=settings.wikidata_cache)


def _linking(ctx: BuildContext):
    # After reasoning: the linker reads inferred types (a State is also an Organization).
    linking = link_settings(ctx.settings)
    if linking is None:  # a corpus without an extract is simply not linked
        return {"linked": 0}
    linked = run_link(ctx.store, linking, ctx.report.started.replace(microsecond=0))
    ctx.report.warnings += linked.warnings
    ctx.report.linking = linked
    return {"linked": len(linked.result.links), "review": len(linked.result.review)}


def _listing(ctx: BuildContext):
    # After linking (the last phase that may add labels), before provenance (which
    # describes every graph).
    return {"ranked": write_ranks(ctx.store)}


def _provenance(ctx: BuildContext):
    written = provenance.describe_build(ctx.store, ctx.corpus, ctx.report)
    ctx.report.graphs = provenance.graph_sizes(ctx.store)
    return {"triples": written}


def _union(ctx: BuildContext):
    # Last, so that the default graph is the union of every graph the build wrote.
    return {"triples": fill_default_graph(ctx.store)}


def default_phases() -> list[Phase]:
    """The pipeline in order; each phase may rely on what the ones before it wrote."""
    return [Phase("discover", _discover), Phase("parse", _parse),
            Phase("vocabulary", _vocabulary), Phase("evidence", _evidence),
            Phase("shapes", _shapes), Phase("reasoning", _reasoning),
            Phase("linking", _linking), Phase("listing", _listing),
            Phase("provenance", _provenance),
            Phase("union", _union)]


def _commit(ctx: BuildContext):
    """Make the staging store whole and compact; the caller closes and publishes it."""
    if ctx.writing is not None:
        ctx.writing.result()  # the parsed graphs are on disk (or their write's error raises)
    written = write_derived(ctx.store, ctx.staging, ctx.parsed) if ctx.in_memory else 0
    ctx.staging.flush()
    # Several bulk loads leave overlapping files; one compaction makes reads of the
    # served store faster than the few seconds it costs here.
    ctx.staging.optimize()
    return {"quads written": written} if ctx.in_memory else {}


def run_phases(settings: BuildSettings, store: Store, phases: list[Phase] | None = None,
               progress: Progress | None = None, staging: Store | None = None,
               ) -> tuple[BuildReport, BuildContext]:
    phases = default_phases() if phases is None else phases
    if staging is not None:
        phases = phases + [Phase("commit", _commit)]
    progress = progress or Progress()
    report = BuildReport(started=datetime.now(timezone.utc))
    ctx = BuildContext(settings, store, report, staging=staging)
    try:
        for index, phase in enumerate(phases, start=1):
            progress.phase_started(phase.name, index, len(phases))
            began = time.perf_counter()
            counts = phase.run(ctx) or {}
            timing = PhaseTiming(phase.name, time.perf_counter() - began, counts)
            report.phases.append(timing)
            progress.phase_finished(timing)
            if ctx.writing is not None and ctx.writing.failed():
                ctx.writing.result()  # the write to staging failed (a full disk): stop here
    except BaseException:
        # A failed build deletes its staging store: not while a write to it goes on.
        if ctx.writing is not None:
            ctx.writing.join()
        raise
    return report, ctx


def check(settings: BuildSettings, phases: list[Phase] | None = None,
          progress: Progress | None = None) -> BuildReport:
    """Validate and reason exactly as a build does, in memory; nothing is written."""
    return run_phases(settings, Store(), phases, progress)[0]


def build(settings: BuildSettings, phases: list[Phase] | None = None,
          progress: Progress | None = None) -> BuildReport:
    """Build a new store beside the current one and swap it in only if every phase passed."""
    with build_lock(settings.store):
        remove_stale_staging(settings.store)
        staging = new_staging_dir(settings.store)
        disk = None
        try:
            # Opened before the work starts: parsing writes to it, and a store that cannot
            # be created fails the build before minutes of work rather than after.
            disk = Store(str(staging))
            report, ctx = run_phases(settings, disk, phases, progress, staging=disk)
            del ctx
            disk = None  # closes RocksDB before the directory is renamed
            report.build_dir = publish(settings.store, staging, settings.keep_previous)
        except BaseException as error:
            # Closed first here too (the frames of the traceback hold it): RocksDB may still
            # be finishing the background write's files, and would put some back.
            disk = None
            traceback.clear_frames(error.__traceback__)
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return report

