"""Every notebook in notebooks/ runs top to bottom against a real `kg serve` of the article."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
import requests
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))


def test_the_notebooks_are_there():
    # A glob that matched nothing would make the executing test below collect nothing.
    assert "article-questions.ipynb" in [path.name for path in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_a_notebook_is_committed_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)

    assert notebook.metadata.kernelspec.name == "python3"
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code, f"{path.name} has no code cell"
    assert [(c.outputs, c.execution_count) for c in code] == [([], None)] * len(code), (
        f"{path.name} carries outputs; clear them before committing")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _kg() -> str:
    return str(Path(sys.executable).with_name("kg"))


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory):
    """`kg serve` on a free loopback port over a store built from the article."""
    store = tmp_path_factory.mktemp("notebooks") / "store"
    built = subprocess.run([_kg(), "build", "--store", str(store)],
                           capture_output=True, text=True)
    assert built.returncode == 0, f"kg build failed:\n{built.stderr}"
    port = _free_port()
    server = subprocess.Popen(
        [_kg(), "serve", "--store", str(store), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}/sparql"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(url, params={"query": "ASK {}"}, timeout=2)
                break
            except requests.ConnectionError:
                if server.poll() is not None or time.monotonic() > deadline:
                    server.kill()
                    pytest.fail(f"kg serve did not start:\n{server.communicate()[1]}")
                time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_a_notebook_runs_top_to_bottom(path, endpoint, monkeypatch, tmp_path):
    # The kernel is a child process and inherits this environment: the notebook finds
    # the endpoint as a user's would, draws without a display, and stays offline.
    monkeypatch.setenv("PARLEY_ENDPOINT", endpoint)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.delenv("PARLEY_ONLINE", raising=False)
    notebook = nbformat.read(path, as_version=4)

    # Raises CellExecutionError, naming the cell and its traceback, on any error.
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()

    outputs = [output for cell in notebook.cells if cell.cell_type == "code"
               for output in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    # The plots were drawn, not silently skipped for lack of data.
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 2, f"{path.name} drew {len(images)} figures"
