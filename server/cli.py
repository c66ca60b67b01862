"""The `kg` console script: the library's commands plus `serve`."""
from __future__ import annotations

import os

import click

from parley.kg.cli import cli
from parley.kg.errors import StoreError, UsageError
from parley.kg.remote import redact
from parley.server.settings import load_settings


@cli.command("serve")
@click.option("--store", type=click.Path(file_okay=False), default=None,
              help="pyoxigraph store directory or symlink to one (default: $PARLEY_STORE or ./var/store)")
@click.option("--corpus", type=click.Path(file_okay=False, exists=True), default=None,
              help="corpus folder whose sources/ hold the texts the source view shows "
                   "(default: $PARLEY_CORPUS or the packaged corpus)")
@click.option("--queries", type=click.Path(file_okay=False, exists=True), default=None,
              help="folder of saved queries (*.rq) to serve (default: $PARLEY_QUERIES or the packaged ones)")
@click.option("--host", default=None, help="address to listen on (default 127.0.0.1)")
@click.option("--port", type=int, default=None, help="port to listen on (default 5000)")
@click.option("--workers", type=click.IntRange(min=1), default=None, help="gunicorn worker processes (default 2)")
@click.option("--executors", type=click.IntRange(min=1), default=None,
              help="query executor processes per worker (default 2)")
@click.option("--overflow-executors", type=click.IntRange(min=0), default=None,
              help="executors a worker adds while all of its executors have been busy for over "
                   "1 s, e.g. with runaway queries; they read the store on disk (default 2)")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=None,
              help="seconds a query may run before it is stopped with 503 (default 30)")
@click.option("--max-body", type=click.IntRange(min=1), default=None,
              help="largest query accepted, in bytes (default 1000000)")
@click.option("--row-cap", type=click.IntRange(min=1), default=None,
              help="most solutions or triples returned (default 10000)")
@click.option("--cors-origin", "cors_origins", multiple=True,
              help="origin allowed to query from a browser; repeat; '*' for any (default '*')")
@click.option("--no-cors", is_flag=True, help="send no CORS headers")
@click.option("--allow-service", "service_allowlist", multiple=True,
              help="SERVICE endpoint IRI queries may call; repeat (default: the Wikidata query service)")
@click.option("--no-federation", is_flag=True, help="refuse every SERVICE call")
@click.option("--in-memory/--on-disk", "in_memory", default=None,
              help="executors copy the store into memory (faster) or read it on disk "
                   "(default: in memory when the store holds at most 3,000,000 quads, "
                   "$PARLEY_IN_MEMORY_MAX_QUADS)")
@click.option("--access-log", default=None, metavar="FILE",
              help="write an access log line per request to FILE ('-': standard output; default: none)")
@click.option("--warm-cache/--no-warm-cache", "warm_cache", default=None,
              help="compute the saved queries' default answers into the cache for each new "
                   "build, before anyone asks (default on; $PARLEY_WARM_CACHE)")
@click.option("--backend", default=None, metavar="URL",
              help="answer from this remote SPARQL 1.1 query endpoint instead of the store")
@click.option("--backend-user", default=None, help="user name for HTTP Basic authentication at the backend")
@click.option("--backend-password-env", default=None, metavar="VAR",
              help="environment variable holding the backend password (never the password itself)")
@click.option("--backend-header", "backend_headers", multiple=True, metavar="'NAME: VALUE'",
              help="extra HTTP header sent to the backend (e.g. an API key); repeat")
def serve(store, corpus, queries, host, port, workers, executors, overflow_executors, timeout, max_body, row_cap,
          cors_origins, no_cors, service_allowlist, no_federation, in_memory, access_log, warm_cache, backend,
          backend_user, backend_password_env, backend_headers):
    """Serve the graph over the SPARQL 1.1 Protocol at /sparql (read-only)."""
    from parley.server.serving import serve as run

    if backend and (store or in_memory is not None):
        raise UsageError("--backend serves a remote endpoint: --store and --in-memory do not apply")
    settings = load_settings(
        store=store, corpus=corpus, queries=queries, host=host, port=port, workers=workers, executors=executors,
        overflow_executors=overflow_executors, timeout=timeout,
        max_body=max_body, row_cap=row_cap, in_memory=in_memory, warm_cache=warm_cache, access_log=access_log,
        cors_origins=() if no_cors else (cors_origins or None),
        service_allowlist=() if no_federation else (service_allowlist or None),
        backend=backend, backend_user=backend_user, backend_password_env=backend_password_env,
        backend_headers=backend_headers or None,
    )
    if settings.backend:
        source = f"the SPARQL endpoint {redact(settings.backend)}"
    elif os.path.isdir(os.path.realpath(settings.store)):
        source = str(settings.store)
    else:
        raise StoreError(f"no store at {settings.store}: run `kg build`, pass --store DIR or --backend URL")
    click.echo(f"serving {source} at {settings.endpoint_url}", err=True)
    run(settings)


def main():
    cli()


if __name__ == "__main__":
    main()
