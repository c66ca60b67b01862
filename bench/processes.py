"""Running a measured command: wall time, peak memory of its process tree, a time limit."""
from __future__ import annotations

import os
import pty
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field

import psutil

SAMPLE_SECONDS = 0.1


@dataclass
class Measured:
    command: list[str]
    returncode: int | None
    seconds: float
    peak_rss: int                     # bytes, the whole process tree (HermiT's JVM included)
    timed_out: bool
    # (seconds since start, text) as the command wrote it, so that the time each progress
    # line appeared is known even for a run that was killed
    chunks: list[tuple[float, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out

    @property
    def output(self) -> str:
        return "".join(text for _, text in self.chunks).replace("\r\n", "\n")

    def time_at(self, offset: int) -> float:
        """When the character at `offset` of `output` had been written."""
        seen = 0
        for moment, text in self.chunks:
            seen += len(text.replace("\r\n", "\n"))
            if seen > offset:
                return moment
        return self.seconds


def _tree_rss(process: psutil.Process) -> int:
    total = 0
    try:
        members = [process] + process.children(recursive=True)
    except psutil.Error:
        return 0
    for member in members:
        try:
            total += member.memory_info().rss
        except psutil.Error:
            pass
    return total


def run(command: list[str], *, timeout: float, env: dict | None = None,
        terminal: bool = False, cwd: str | None = None) -> Measured:
    """Run `command` to completion or `timeout`, sampling its tree's RSS every 0.1 s.

    With `terminal`, stdout and stderr are a pseudo-terminal, so a program that reports
    progress only to a terminal (`kg build`) does so; its output is kept with its times.
    The command runs in its own session, so the whole tree is killed on timeout.
    """
    chunks: list[tuple[float, str]] = []
    began = time.perf_counter()
    if terminal:
        primary, secondary = pty.openpty()
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=secondary,
                                   stderr=secondary, env=env, cwd=cwd, start_new_session=True)
        os.close(secondary)
        reader = threading.Thread(target=_read_terminal, args=(primary, began, chunks),
                                  daemon=True)
    else:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, env=env, cwd=cwd,
                                   start_new_session=True)
        reader = threading.Thread(target=_read_pipe, args=(process.stdout, began, chunks),
                                  daemon=True)
    reader.start()
    watched = psutil.Process(process.pid)
    peak, timed_out = 0, False
    while process.poll() is None:
        peak = max(peak, _tree_rss(watched))
        if time.perf_counter() - began > timeout:
            timed_out = True
            os.killpg(process.pid, signal.SIGKILL)
            break
        time.sleep(SAMPLE_SECONDS)
    process.wait()
    seconds = time.perf_counter() - began
    reader.join(timeout=5)
    return Measured(command, None if timed_out else process.returncode, seconds, peak,
                    timed_out, chunks)


def _read_terminal(fd: int, began: float, chunks: list) -> None:
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:          # EIO: the last writer closed the terminal
            break
        if not chunk:
            break
        chunks.append((time.perf_counter() - began, chunk.decode("utf-8", "replace")))
    os.close(fd)


def _read_pipe(stream, began: float, chunks: list) -> None:
    for raw in stream:
        chunks.append((time.perf_counter() - began, raw.decode("utf-8", "replace")))
