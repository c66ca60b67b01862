"""Shared fixtures: copies of the packaged corpus, a tiny corpus, a built article store."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from parley.kg.build import build
from parley.kg.settings import BuildSettings, java_path, packaged_corpus, packaged_ontology
from tiny_corpus import write_tiny_corpus


def _copy_corpus(target: Path) -> Path:
    shutil.copytree(packaged_corpus(), target,
                    ignore=shutil.ignore_patterns("__pycache__", "__init__.py"))
    return target


@pytest.fixture
def corpus_dir(tmp_path) -> Path:
    """A private copy of the packaged corpus that a test may break or extend."""
    return _copy_corpus(tmp_path / "corpus")


@pytest.fixture
def ontology_dir(tmp_path) -> Path:
    target = tmp_path / "ontology"
    shutil.copytree(packaged_ontology(), target,
                    ignore=shutil.ignore_patterns("__pycache__", "__init__.py"))
    return target


@pytest.fixture
def tiny(tmp_path) -> BuildSettings:
    """Settings of a build of the tiny test corpus into tmp_path/store."""
    corpus, ontology = write_tiny_corpus(tmp_path / "tiny")
    return BuildSettings(store=tmp_path / "store", corpus=corpus, ontology=ontology,
                         java=java_path())


@pytest.fixture(scope="session")
def article_store(tmp_path_factory) -> Path:
    """A store built once per session from the packaged corpus (the article)."""
    store = tmp_path_factory.mktemp("article") / "store"
    build(BuildSettings(store=store, corpus=packaged_corpus(), ontology=packaged_ontology(),
                        java=java_path()))
    return store


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()
