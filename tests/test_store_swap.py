"""The store is replaced only by a complete build; failed or killed builds leave it intact."""
from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from parley.kg.build import build
from parley.kg.errors import StoreError, ValidationError
from parley.kg.store import StoreReader, build_lock, builds_dir, open_read_only

COUNT = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"


def _triples(store_path: Path) -> int:
    return int(next(iter(open_read_only(store_path).query(COUNT)))["n"].value)


@pytest.fixture
def tiny(tiny):
    """The tiny corpus without reasoning: these tests are about the store, not HermiT."""
    return dataclasses.replace(tiny, java=None)


def _builds(settings) -> list[str]:
    return sorted(p.name for p in builds_dir(settings.store).iterdir() if p.is_dir())


def test_build_swaps_a_symlink_and_keeps_two_previous_builds(tiny):
    targets = []
    for _ in range(4):
        build(tiny)
        assert tiny.store.is_symlink()
        targets.append(os.path.realpath(tiny.store))
    assert len(set(targets)) == 4
    assert _builds(tiny) == sorted(Path(t).name for t in targets[1:])
    assert _triples(tiny.store) > 0


def test_failed_build_leaves_the_previous_store_answering(tiny):
    build(tiny)
    before, count = os.path.realpath(tiny.store), _triples(tiny.store)
    curated = next((tiny.corpus / "curated").glob("*.ttl"))
    curated.write_text(curated.read_text().replace("parley:holder", "parley:holdr"))
    with pytest.raises(ValidationError):
        build(tiny)
    assert os.path.realpath(tiny.store) == before
    assert _triples(tiny.store) == count
    assert _builds(tiny) == [Path(before).name]  # the failed staging dir is gone


def test_killed_build_leaves_the_previous_store_and_is_cleaned_up_next_time(tiny):
    build(tiny)
    before, count = os.path.realpath(tiny.store), _triples(tiny.store)
    env = {**os.environ, "PARLEY_BUILD_HOLD_AFTER": "reasoning", "PARLEY_JAVA": "/nonexistent"}
    process = subprocess.Popen(
        [sys.executable, "-c", "from parley.server.cli import main; main()", "build",
         "--store", str(tiny.store), "--corpus", str(tiny.corpus),
         "--ontology", str(tiny.ontology)],
        env=env, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stderr.readline()
        assert line.startswith("holding after phase reasoning"), line
        staging = [p for p in builds_dir(tiny.store).iterdir() if p.name.startswith(".staging-")]
        assert len(staging) == 1 and any(staging[0].iterdir())
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert os.path.realpath(tiny.store) == before
    assert _triples(tiny.store) == count
    build(tiny)
    assert not [p for p in builds_dir(tiny.store).iterdir() if p.name.startswith(".staging-")]
    assert os.path.realpath(tiny.store) != before


def test_a_second_concurrent_build_is_refused(tiny):
    with build_lock(tiny.store):
        with pytest.raises(StoreError, match=r"another build of .* is running \(pid \d+\)"):
            build(tiny)


def test_a_plain_store_directory_is_never_replaced(tiny):
    tiny.store.mkdir()
    (tiny.store / "keep-me").write_text("data")
    with pytest.raises(StoreError, match="plain directory"):
        build(tiny)
    assert (tiny.store / "keep-me").read_text() == "data"


def test_a_reader_notices_a_new_build(tiny):
    build(tiny)
    reader = StoreReader(tiny.store)
    first = reader.store
    assert reader.store is first
    build(dataclasses.replace(tiny))
    assert reader.store is not first
    assert reader.build == os.path.realpath(tiny.store)


def test_opening_a_missing_store_is_a_store_error(tmp_path):
    with pytest.raises(StoreError, match="run `kg build` first"):
        open_read_only(tmp_path / "nothing")
