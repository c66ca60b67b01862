"""Running the app under gunicorn, in-process, with the settings `kg serve` assembled."""
from __future__ import annotations

from gunicorn.app.base import BaseApplication

from parley.server.settings import ServerSettings, bracketed

# Seconds gunicorn allows beyond the query timeout before it considers a worker stuck; a
# worker only waits on pipes, so this is generous slack, not a second query limit.
_WORKER_SLACK = 30


class ParleyServer(BaseApplication):
    """gunicorn with threaded workers; each worker builds its own app and executor pool."""

    def __init__(self, settings: ServerSettings):
        self.settings = settings
        super().__init__()

    def load_config(self):
        settings = self.settings
        config = {
            "bind": [f"{bracketed(settings.host)}:{settings.port}"],
            "workers": settings.workers,
            # Threads wait on executor pipes (GIL released); evaluation happens elsewhere.
            "worker_class": "gthread",
            "threads": settings.threads,
            "timeout": int(settings.timeout) + _WORKER_SLACK,
            "graceful_timeout": int(settings.timeout) + 5,
            "keepalive": 5,
            # 0 lifts gunicorn's 8 KB request-line limit: long GET queries are checked
            # against max_body by the protocol layer instead (413).
            "limit_request_line": 0,
            "accesslog": settings.access_log,
            "errorlog": "-",
            "loglevel": "info",
            "proc_name": "parley-serve",
            "worker_exit": _close_pool,
            # One shared per-user control socket would collide between several servers.
            "control_socket_disable": True,
        }
        for key, value in config.items():
            self.cfg.set(key, value)

    def load(self):
        from parley.server.app import create_app

        return create_app(self.settings)


def _close_pool(server, worker):
    app = getattr(worker, "wsgi", None)
    if app is not None and "parley.service" in getattr(app, "extensions", {}):
        app.extensions["parley.service"].close()


def serve(settings: ServerSettings) -> None:
    ParleyServer(settings).run()
