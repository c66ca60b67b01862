"""The `kg` commands: exit codes, messages on stderr, stats and exports that round-trip."""
from __future__ import annotations

import json

import pytest
import rdflib

from click.testing import CliRunner

from parley.kg.cli import cli
from parley.kg.settings import BuildSettings, java_path
from parley.kg.store import open_read_only
from tiny_corpus import write_tiny_corpus


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One tiny build shared by the read-only commands of this module."""
    root = tmp_path_factory.mktemp("cli")
    corpus, ontology = write_tiny_corpus(root / "tiny")
    settings = BuildSettings(store=root / "store", corpus=corpus, ontology=ontology,
                             java=java_path())
    result = CliRunner().invoke(cli, ["build", "--store", str(settings.store), "--corpus",
                                      str(corpus), "--ontology", str(ontology)])
    assert result.exit_code == 0, result.output
    return settings


def test_build_reports_on_stderr_and_stays_quiet_without_a_terminal(built, runner):
    result = runner.invoke(cli, ["build", "--store", str(built.store), "--corpus",
                                 str(built.corpus), "--ontology", str(built.ontology)])
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr.startswith(f"built {built.store} -> ")
    assert "[1/" not in result.stderr  # progress only on a terminal


def test_stats_lists_graphs_and_classes(built, runner):
    result = runner.invoke(cli, ["stats", "--store", str(built.store)])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "triples per graph:"
    assert any(line.split() == ["source/tiny-talks", "35"] for line in lines)
    assert any(line.split() == ["parley:Mediator", "1"] for line in lines)
    assert any(line.split() == ["parley:Actor", "2"] for line in lines)  # inferred ones count


def test_export_trig_round_trips_through_rdflib(built, runner):
    result = runner.invoke(cli, ["export", "--store", str(built.store), "--format", "trig"])
    assert result.exit_code == 0, result.stderr
    dataset = rdflib.Dataset()
    dataset.parse(data=result.stdout_bytes, format="trig")
    store = open_read_only(built.store)
    for graph in store.named_graphs():
        expected = len(list(store.quads_for_pattern(None, None, None, graph)))
        assert len(dataset.graph(rdflib.URIRef(graph.value))) == expected, graph


@pytest.mark.parametrize("format_, rdflib_format", [("nquads", "nquads"), ("jsonld", "json-ld")])
def test_export_dataset_formats(built, runner, tmp_path, format_, rdflib_format):
    output = tmp_path / f"out.{format_}"
    result = runner.invoke(cli, ["export", "--store", str(built.store), "--format", format_,
                                 "--output", str(output)])
    assert result.exit_code == 0, result.stderr
    dataset = rdflib.Dataset()
    dataset.parse(output, format=rdflib_format)
    # Every quad, the default graph's (the build's union of the named graphs) included.
    assert sum(len(graph) for graph in dataset.graphs()) == len(open_read_only(built.store))
    if format_ == "jsonld":
        assert isinstance(json.loads(output.read_text()), list)


def test_export_turtle_is_the_union_or_one_graph(built, runner):
    union = runner.invoke(cli, ["export", "--store", str(built.store), "--format", "turtle"])
    one = runner.invoke(cli, ["export", "--store", str(built.store), "--format", "turtle",
                              "--graph", "https://w3id.org/parley/graph/source/tiny-talks"])
    assert union.exit_code == one.exit_code == 0
    whole, part = rdflib.Graph().parse(data=union.stdout, format="turtle"), \
        rdflib.Graph().parse(data=one.stdout, format="turtle")
    assert len(part) == 35
    assert set(part) < set(whole)


def test_unknown_graph_is_a_usage_error(built, runner):
    result = runner.invoke(cli, ["export", "--store", str(built.store), "--graph", "urn:x:nope"])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: the store has no graph <urn:x:nope>")


def test_bad_format_is_a_usage_error(built, runner):
    result = runner.invoke(cli, ["export", "--store", str(built.store), "--format", "rdfxml"])
    assert result.exit_code == 2


def test_data_error_exits_1_with_the_location(tiny, runner):
    curated = next((tiny.corpus / "curated").glob("*.ttl"))
    curated.write_text(curated.read_text().replace("parley:mediates", "parley:mediatse", 1))
    result = runner.invoke(cli, ["check", "--corpus", str(tiny.corpus),
                                 "--ontology", str(tiny.ontology)])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: vocabulary: 1 problem\n")
    assert "tiny-talks.ttl:" in result.stderr and "did you mean parley:mediates?" in result.stderr


def test_stats_without_a_store_says_so(tmp_path, runner):
    result = runner.invoke(cli, ["stats", "--store", str(tmp_path / "none")])
    assert result.exit_code == 1
    assert "run `kg build` first" in result.stderr


def test_check_warns_when_java_is_missing(tiny, runner, monkeypatch):
    monkeypatch.setenv("PARLEY_JAVA", str(tiny.store.parent / "no-java"))
    result = runner.invoke(cli, ["check", "--corpus", str(tiny.corpus),
                                 "--ontology", str(tiny.ontology)])
    assert result.exit_code == 0, result.stderr
    assert "warning: reasoning skipped: no Java runtime at" in result.stderr
    assert not tiny.store.exists()  # check writes nothing


def test_store_defaults_to_the_environment(built, runner, monkeypatch):
    monkeypatch.setenv("PARLEY_STORE", str(built.store))
    result = runner.invoke(cli, ["stats"])
    assert result.exit_code == 0 and "source/tiny-talks" in result.stdout
