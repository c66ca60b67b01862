"""A build swapping the store symlink under a running `kg serve`: new answers, no failed requests."""
from __future__ import annotations

import os
import shutil
import threading
import time

import requests

from serving import make_store, running_server

COUNT = "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"


def _count(server, headers=None) -> requests.Response:
    return requests.get(server.url, params={"query": COUNT}, headers=headers or {}, timeout=30)


def _swap(link, target):
    # What `kg build` does: a new symlink beside the old one, renamed over it atomically.
    staging = link.with_name(link.name + ".new")
    staging.symlink_to(target)
    os.replace(staging, link)


def test_server_follows_a_new_build_without_failing_requests(tmp_path):
    builds = tmp_path / "store.builds"
    first = make_store(builds / "1", actors=10)
    second = make_store(builds / "2", actors=30)
    link = tmp_path / "store"
    link.symlink_to(first)
    with running_server(link, tmp_path) as server:
        before = _count(server)
        assert before.json()["results"]["bindings"][0]["n"]["value"] == "25"
        statuses: list[int] = []
        done = threading.Event()

        def keep_querying():
            session = requests.Session()
            while not done.is_set():
                statuses.append(session.get(server.url, params={"query": COUNT}, timeout=30).status_code)

        reader = threading.Thread(target=keep_querying)
        reader.start()
        _swap(link, second)
        shutil.rmtree(first)  # older builds get deleted while executors may still hold them open
        deadline = time.monotonic() + 30
        answer = before
        while time.monotonic() < deadline:
            answer = _count(server)
            if answer.json()["results"]["bindings"][0]["n"]["value"] == "65":
                break
            time.sleep(0.2)
        done.set()
        reader.join()
        assert answer.json()["results"]["bindings"][0]["n"]["value"] == "65"
        assert statuses and set(statuses) == {200}
        # The old answer's ETag no longer validates: the build is part of it.
        revalidated = _count(server, {"If-None-Match": before.headers["ETag"]})
        assert revalidated.status_code == 200
        assert revalidated.headers["ETag"] != before.headers["ETag"]
        assert _count(server, {"If-None-Match": revalidated.headers["ETag"]}).status_code == 304


def test_every_new_build_is_picked_up(tmp_path):
    link = tmp_path / "store"
    empty = make_store(tmp_path / "builds" / "0", actors=0)
    link.symlink_to(empty)
    with running_server(link, tmp_path) as server:
        assert _count(server).json()["results"]["bindings"][0]["n"]["value"] == "5"
        _swap(link, make_store(tmp_path / "builds" / "1", actors=1))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and \
                _count(server).json()["results"]["bindings"][0]["n"]["value"] != "7":
            time.sleep(0.2)
        assert _count(server).json()["results"]["bindings"][0]["n"]["value"] == "7"
