"""Answers cached per store build: an LRU of serialized bodies and strong ETags for revalidation.

The graph changes only when a build swaps the store, so an answer is a pure function of
(build, query, dataset, media type); its ETag is a digest of that key and can be checked
before the query runs.
"""
from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from parley.server.evaluation import generation


@dataclass(frozen=True)
class Answer:
    body: bytes
    content_type: str
    etag: str
    truncated: bool


# hashlib lets go of the GIL while it hashes 2 KiB or more; in a busy worker, taking it back
# then waits behind the other threads' Python. A key (a whole query text) is fed in
# smaller pieces, so hashing it never lets go.
_PIECE = 2000


def etag_for(key: tuple) -> str:
    """A strong ETag naming `key`: each part typed and length-prefixed, so that no two keys
    share their bytes. Text goes in as UTF-8 (repr() of a 5 KB query took 50 µs, this 17)."""
    digest = hashlib.blake2b(digest_size=16)
    for part in key:
        if isinstance(part, str):
            data = b"s" + part.encode("utf-8", "surrogatepass")
        else:
            data = b"r" + repr(part).encode()
        digest.update(b"%d:" % len(data))
        view = memoryview(data)
        for start in range(0, len(view), _PIECE):
            digest.update(view[start:start + _PIECE])
    return '"' + digest.hexdigest() + '"'


class AnswerCache:
    """Thread-safe LRU bounded by the total size of the bodies it holds."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.size = 0
        self.entries: OrderedDict[str, Answer] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, etag: str) -> Answer | None:
        with self.lock:
            answer = self.entries.get(etag)
            if answer is not None:
                self.entries.move_to_end(etag)
            return answer

    def put(self, answer: Answer) -> None:
        # One answer may take at most an eighth of the cache, so a few huge results
        # cannot flush everything else.
        if len(answer.body) > self.max_bytes // 8:
            return
        with self.lock:
            if answer.etag in self.entries:
                return
            self.entries[answer.etag] = answer
            self.size += len(answer.body)
            while self.size > self.max_bytes:
                _, old = self.entries.popitem(last=False)
                self.size -= len(old.body)


class BuildWatch:
    """The current build of the store, looked up at most once per interval."""

    def __init__(self, store: str, interval: float):
        self.store = store
        self.interval = interval
        self.checked = 0.0
        self.value = ""
        self.lock = threading.Lock()

    def current(self) -> str:
        now = time.monotonic()
        if now - self.checked >= self.interval:
            with self.lock:
                if now - self.checked >= self.interval:
                    self.value = generation(self.store)
                    self.checked = now
        return self.value
