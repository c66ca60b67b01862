"""The `kg` command group: build, check, link, stats, export, query, push; KGErrors caught here."""
from __future__ import annotations

import os
import signal
import sys
from datetime import datetime, timezone
from pathlib import Path

import click

from . import build as pipeline
from .errors import KGError, UsageError
from .catalog import load_catalog
from .link_review import accept_reviewed
from .presenting import OUTPUT_FORMATS, present_catalog, present_query
from .push import PushSettings, push
from .push import TerminalProgress as PushProgress
from .remote import AUTH_SCHEMES, PROTOCOLS, remote_settings
from .exporting import FORMATS, export
from .namespaces import shorten
from .settings import DEFAULT_IN_MEMORY_QUADS, build_settings, store_path
from .stats import compute_stats, format_stats
from .store import open_read_only

ENV_HOLD = "PARLEY_BUILD_HOLD_AFTER"


class KGGroup(click.Group):
    """A click group that turns every KGError into `error: …` on stderr and its exit code."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except KGError as error:
            click.echo(f"error: {error}", err=True)
            raise click.exceptions.Exit(error.exit_code) from None


class TerminalProgress(pipeline.Progress):
    """Phase-by-phase progress on stderr when it is a terminal; silent otherwise.

    `PARLEY_BUILD_HOLD_AFTER=<phase>` makes the process stop after that phase until it is
    killed: the hook tests use to interrupt a build at a known point.
    """

    def __init__(self, stream, hold_after: str | None = None):
        self.stream = stream
        self.visible = stream.isatty()
        self.hold_after = hold_after

    def phase_started(self, name: str, index: int, total: int) -> None:
        if self.visible:
            self.stream.write(f"[{index}/{total}] {name} …")
            self.stream.flush()

    def phase_finished(self, timing: pipeline.PhaseTiming) -> None:
        if self.visible:
            counts = ", ".join(f"{v} {k}" for k, v in timing.counts.items())
            self.stream.write(f" {timing.seconds:.2f} s{'  (' + counts + ')' if counts else ''}\n")
            self.stream.flush()
        if timing.name == self.hold_after:
            self.stream.write(f"holding after phase {timing.name} ({ENV_HOLD})\n")
            self.stream.flush()
            while True:
                signal.pause()


store_option = click.option("--store", "store", type=click.Path(path_type=Path), default=None,
                            help="store directory (default: $PARLEY_STORE or ./var/store)")
corpus_options = [
    click.option("--corpus", type=click.Path(path_type=Path, file_okay=False), default=None,
                 help="corpus directory with sources/ and curated/ (default: the packaged one)"),
    click.option("--ontology", type=click.Path(path_type=Path, file_okay=False), default=None,
                 help="directory with parley.ttl and shapes.ttl (default: the packaged one)"),
]


link_options = [
    click.option("--online", is_flag=True,
                 help="also ask the Wikidata query service (cached beside the store)"),
    click.option("--wikidata-endpoint", default=None, metavar="URL",
                 help="SPARQL endpoint for online linking; implies --online "
                      "(default $PARLEY_WIKIDATA_ENDPOINT, else query.wikidata.org)"),
    click.option("--review", type=click.Path(path_type=Path, dir_okay=False), default=None,
                 help="where to write link candidates for review "
                      "(default: STORE.link-review.tsv beside the store)"),
]


def _with(options):
    def decorate(function):
        for option in reversed(options):
            function = option(function)
        return function
    return decorate


@click.group(cls=KGGroup)
def cli():
    """Build, validate, inspect and export the Parley knowledge graph."""


@cli.command("build")
@store_option
@_with(corpus_options)
@_with(link_options)
@click.option("--in-memory-up-to", "in_memory_up_to", type=click.IntRange(min=0),
              default=DEFAULT_IN_MEMORY_QUADS, show_default=True, metavar="QUADS",
              help="work on an in-memory copy of the data up to this many quads (fast), on "
                   "the disk store beyond (memory stays flat); 0: always on disk")
def build_command(store, corpus, ontology, online, wikidata_endpoint, review, in_memory_up_to):
    """Parse, validate, reason and link the corpus; replace the store when all passed."""
    settings = build_settings(store=store, corpus=corpus, ontology=ontology, online=online,
                              wikidata_endpoint=wikidata_endpoint, review=review,
                              in_memory_up_to=in_memory_up_to)
    _build(settings)


@cli.command("link")
@store_option
@_with(corpus_options)
@_with(link_options)
@click.option("--accept", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, metavar="REVIEW_FILE",
              help="append the decisions a curator wrote into this review file to "
                   "CORPUS/links/decisions.ttl, then rebuild")
@click.option("--curator", default=None, envvar="PARLEY_CURATOR",
              help="who decides (with --accept; default $PARLEY_CURATOR)")
def link_command(store, corpus, ontology, online, wikidata_endpoint, review, accept, curator):
    """Link actors, places, offices and events to Wikidata, and rebuild with the links.

    The graph is always the product of one whole build, so linking again (for example
    online) rebuilds: the served store is replaced only when everything passed.
    """
    settings = build_settings(store=store, corpus=corpus, ontology=ontology, online=online,
                              wikidata_endpoint=wikidata_endpoint, review=review)
    if accept is not None:
        if not curator:
            raise UsageError("--accept needs --curator NAME (or $PARLEY_CURATOR): every "
                             "link decision is attributed to the curator who made it")
        decisions = settings.corpus / "links" / "decisions.ttl"
        made = accept_reviewed(accept, decisions, curator,
                               datetime.now(timezone.utc).replace(microsecond=0))
        click.echo(f"{len(made)} decision(s) appended to {decisions}", err=True)
    report = _build(settings)
    if report.linking is not None:
        click.echo(report.linking.summary())
        if settings.review is not None:
            click.echo(f"candidates for review: {settings.review}")


def _build(settings) -> pipeline.BuildReport:
    progress = TerminalProgress(sys.stderr, os.environ.get(ENV_HOLD) or None)
    report = pipeline.build(settings, progress=progress)
    _warn(report)
    total = sum(report.graphs.values())
    click.echo(f"built {settings.store} -> {report.build_dir}: {total} triples in "
               f"{len(report.graphs)} graphs ({report.seconds:.2f} s)", err=True)
    return report


@cli.command("check")
@_with(corpus_options)
def check_command(corpus, ontology):
    """Validate and reason exactly like build, writing nothing."""
    settings = build_settings(corpus=corpus, ontology=ontology, write_review=False)
    report = pipeline.check(settings, progress=TerminalProgress(sys.stderr))
    _warn(report)
    inferred = report.reasoning.inferred if report.reasoning else 0
    click.echo(f"ok: {sum(report.graphs.values())} triples in {len(report.graphs)} graphs, "
               f"{inferred} inferred ({report.seconds:.2f} s)", err=True)


@cli.command("stats")
@store_option
def stats_command(store):
    """Triples per named graph and instances per class."""
    stats = compute_stats(open_read_only(store_path(store)))
    click.echo(format_stats(stats, lambda iri: shorten(iri)), nl=False)


@cli.command("export")
@store_option
@click.option("--format", "format_", type=click.Choice(list(FORMATS)), default="trig",
              show_default=True, help="serialisation; turtle is the union of all graphs")
@click.option("--graph", default=None, help="export only this named graph (IRI)")
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="file to write (default: stdout)")
def export_command(store, format_, graph, output):
    """Serialise the store: all named graphs, or one with --graph."""
    opened = open_read_only(store_path(store))
    if output is None:
        export(opened, sys.stdout.buffer, format_, graph)
        sys.stdout.buffer.flush()
        return
    with open(output, "wb") as handle:
        export(opened, handle, format_, graph)


@cli.command("query")
@click.argument("name", required=False)
@click.option("--param", "-p", "params", multiple=True, metavar="KEY=VALUE",
              help="a parameter of the saved query (repeatable)")
@click.option("--format", "format_", type=click.Choice(OUTPUT_FORMATS), default="table",
              show_default=True, help="table for people; json, xml, csv, tsv are SPARQL results")
@click.option("--list", "list_", is_flag=True, help="list the saved queries and their parameters")
@store_option
def query_command(name, params, format_, list_, store):
    """Run the saved query NAME (`kg query --list` shows them all)."""
    catalog = load_catalog()
    if list_:
        click.echo(present_catalog(catalog), nl=False)
        return
    if name is None:
        raise UsageError("name a saved query, or use --list to see them")
    output = present_query(open_read_only(store_path(store)), catalog, name, params, format_)
    click.echo(output, nl=False)  # bytes: written as is, UTF-8 from the serializer


@cli.command("push")
@store_option
@click.option("--to", "target", required=True, metavar="URL",
              help="the remote store: its graph store (GSP) endpoint, or its SPARQL "
                   "endpoint for --protocol update")
@click.option("--protocol", type=click.Choice(PROTOCOLS), default=None,
              help="gsp (Graph Store HTTP Protocol) or update (SPARQL Update); "
                   "default: detected by probing --to")
@click.option("--query-endpoint", default=None, metavar="URL",
              help="SPARQL query endpoint for the count check (default: probed beside --to)")
@click.option("--update-endpoint", default=None, metavar="URL",
              help="SPARQL update endpoint for --protocol update (default: --to)")
@click.option("--user", default=None, help="user name for HTTP authentication")
@click.option("--password", default=None,
              help="password (visible in the process list: prefer --password-env)")
@click.option("--password-env", default=None, metavar="VAR",
              help="read the password from environment variable VAR")
@click.option("--auth", "auth_scheme", type=click.Choice(AUTH_SCHEMES), default="basic",
              show_default=True, help="how --user/--password are sent (Virtuoso's *-auth "
                                      "endpoints want digest)")
@click.option("--bearer-token-env", default=None, metavar="VAR",
              help="send `Authorization: Bearer` with the token in environment variable VAR")
@click.option("--header", "headers", multiple=True, metavar="'NAME: VALUE'",
              help="an extra HTTP header on every request (repeatable)")
@click.option("--batch-triples", type=click.IntRange(min=1), default=10_000, show_default=True,
              help="triples per request (a blank-node structure is never split)")
@click.option("--retries", type=click.IntRange(min=0), default=5, show_default=True,
              help="retries after connection errors, 429 and 5xx (never other 4xx)")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=60.0,
              show_default=True, help="seconds to wait for each answer")
@click.option("--graph", "graphs", multiple=True, metavar="IRI",
              help="push only this named graph (repeatable; default: every named graph)")
@click.option("--replace/--append", default=True, show_default=True,
              help="replace each remote graph, or add to what it holds")
@click.option("--dry-run", is_flag=True, help="probe the store and count, but write nothing")
def push_command(store, target, protocol, query_endpoint, update_endpoint, user, password,
                 password_env, auth_scheme, bearer_token_env, headers, batch_triples, retries,
                 timeout, graphs, replace, dry_run):
    """Load the built graph into a remote SPARQL store, graph by graph, and check the counts."""
    remote = remote_settings(user=user, password=password, password_env=password_env,
                             auth_scheme=auth_scheme, bearer_token_env=bearer_token_env,
                             headers=headers, retries=retries, timeout=timeout)
    settings = PushSettings(store=store_path(store), target=target, remote=remote,
                            protocol=protocol, query_endpoint=query_endpoint,
                            update_endpoint=update_endpoint, graphs=tuple(graphs),
                            batch_triples=batch_triples, replace=replace, dry_run=dry_run)
    report = push(settings, progress=PushProgress(sys.stderr))
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    if dry_run:
        click.echo(report.details(), nl=False)
    click.echo(report.summary(), err=True)


def _warn(report: pipeline.BuildReport) -> None:
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
