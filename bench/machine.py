"""The machine and software a benchmark ran on, recorded beside every number."""
from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
PEERS_VENV = REPO / "bench" / ".venv-peers"
# Corpora, stores and dumps of the benchmarks (--work of each script).
WORK = Path("/tmp/parley-bench")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def _command_version(command: list[str], pattern: str = r"(\d+(?:\.\d+)+)") -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "not installed"
    found = re.search(pattern, done.stdout + done.stderr)
    return found.group(1) if found else "unknown"


def peer_python() -> Path | None:
    python = PEERS_VENV / "bin" / "python"
    return python if python.is_file() else None


def save(path: Path, results: dict) -> None:
    """Write a benchmark's results (bench/results/*.json); runs save after each part too."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n")


def describe() -> dict:
    """Cores, memory, CPU, OS and the versions of everything measured."""
    peer = peer_python()
    peer_versions = {}
    if peer is not None:
        script = ("from importlib.metadata import version as v\n"
                  "for n in ('rdflib-endpoint', 'rdflib', 'fastapi', 'uvicorn'):\n"
                  "    print(n, v(n))")
        done = subprocess.run([str(peer), "-c", script], capture_output=True, text=True)
        peer_versions = dict(line.split(" ", 1) for line in done.stdout.splitlines())
    return {
        "cores": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "cpu": cpu_model(),
        "os": f"{platform.system()} {platform.release()}",
        "load": load(),
        "versions": {
            "Python": platform.python_version(),
            "parley": _version("parley"),
            "pyoxigraph": _version("pyoxigraph"),
            "oxigraph (CLI)": _command_version([str(VENV_BIN / "oxigraph"), "--version"]),
            "rdflib": _version("rdflib"),
            "pySHACL": _version("pyshacl"),
            "owlready2": _version("owlready2"),
            "Java": _command_version(["java", "-version"], r'version "([^"]+)"'),
            "Flask": _version("flask"),
            "gunicorn": _version("gunicorn"),
            "wrk": _command_version(["wrk", "-v"]),
            "rdflib-endpoint": peer_versions.get("rdflib-endpoint", "not installed"),
            "rdflib (rdflib-endpoint's venv)": peer_versions.get("rdflib", "not installed"),
            "FastAPI": peer_versions.get("fastapi", "not installed"),
            "uvicorn": peer_versions.get("uvicorn", "not installed"),
        },
    }
