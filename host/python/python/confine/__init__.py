"""confine: configuration documents that many processes, threads and machines update at
once, with no lost update and no torn file.

    import confine
    store = confine.Store("/etc/myapp", timeout=5.0)
    store.set("app.json", "server.port", 8080)
    with store.update("app.json") as doc:
        doc["server"]["port"] = 8443

Documents are JSON, or TOML where the name ends `.toml`. Keys are the CLI's key paths
(`server.port`, `hosts["eu.west"]`, `plugins[0]`); values are as Python has them (dict,
list, str, int, float, bool, None), strict: integers exact to 64 bits, no NaN, no key
twice (and no None in TOML). Every call that may wait (a lock, an fsync, etcd) lets other
Python threads run; threads of one process share one `Store` and its writes (group
commit). The `a`-prefixed methods (`await store.aincr(...)`, `async with
store.aupdate(...)`, `async for value in store.awatch(...)`) run the same calls off the
event loop.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import time
import warnings
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any, AsyncIterator, Callable, Dict, Iterator, List, Optional, Tuple, TypeVar, Union

from . import _native
# Re-exported, each `as` itself: the package's public exceptions.
from ._errors import (
    Conflict as Conflict,
    Error as Error,
    InternalError as InternalError,
    InvalidDocument as InvalidDocument,
    InvalidKey as InvalidKey,
    InvalidName as InvalidName,
    InvalidValue as InvalidValue,
    LockTimeout as LockTimeout,
    MissedChanges as MissedChanges,
    NotFound as NotFound,
    StoreError as StoreError,
    TooLarge as TooLarge,
    TypeMismatch as TypeMismatch,
)

T = TypeVar("T")

#: A document's value: its root object (a JSON object, a TOML table) as Python holds it.
Document = Dict[str, Any]

#: How long one wait of a watch lasts before Python may run signal handlers (Ctrl-C), or
#: before an `awatch` cancelled meanwhile lets its worker thread go.
_WATCH_SLICE = 0.25

#: No value given yet (a watch's first value is always new).
_UNSEEN: Any = object()


def _dumps(value: Any) -> str:
    """Strict JSON: no NaN or infinity (which no JSON reader takes back)."""
    return json.dumps(value, allow_nan=False, ensure_ascii=False)


def _seconds(timeout: Optional[float]) -> Optional[float]:
    """A timeout as the native calls take one: a finite number of seconds >= 0 (or `None`)."""
    if timeout is not None and not (math.isfinite(timeout) and timeout >= 0):
        raise ValueError(f"timeout must be a number of seconds >= 0, not {timeout}")
    return timeout


def _document(document: str, text: Optional[str]) -> Dict[str, Any]:
    """The document an update's block is given: `text`, the content of `document`, parsed
    in the format its name says (JSON, or TOML for `*.toml`), `{}` where there is none."""
    value: Dict[str, Any] = {} if text is None else json.loads(_native.value_at(document, text, ""))
    return value


@dataclass(frozen=True)
class Snapshot:
    """One whole version of a document: its text and the revision of exactly that text."""

    text: str
    revision: str
    #: The document's name, which says its format (JSON, or TOML for `*.toml`).
    document: str = ""

    @property
    def value(self) -> Document:
        """The document, parsed in its format."""
        parsed: Document = _document(self.document, self.text)
        return parsed


@dataclass(frozen=True)
class Lease:
    """The lease that keeps a lock on etcd: the lock is freed when it runs out, if its holder
    stops renewing it (a crashed or paused process). Times in seconds."""

    #: The lease's id in etcd.
    id: int
    #: The time to live it was granted (renewed while its holder runs).
    granted: float
    #: How long it has left, if its holder stops renewing it now.
    remaining: float


@dataclass(frozen=True)
class LockStatus:
    """Whether a document's lock is held, by which process and since when (seconds since the
    epoch), where that can be known; on etcd, the holder's `lease` (`None` elsewhere, where
    a lock lasts as long as its holder's process)."""

    held: bool
    holder: Optional[int]
    since: Optional[float]
    lease: Optional[Lease] = None


class Store:
    """The documents of one store: a directory (the only one confine touches, with
    `<name>.lock` files beside the documents, excluding `fcntl.lockf`, `flock`, `filelock`,
    `portalocker` users), or `etcd://host:port/prefix` where the package has etcd
    (`confine._native.ETCD`). `timeout` is how long a writer waits for a document's lock, in
    seconds; `max_size` the largest document in bytes. For an `etcds://` store, `cacert`,
    `cert` and `key` are the TLS files."""

    def __init__(
        self,
        location: Union[str, "os.PathLike[str]"],
        timeout: float = 5.0,
        *,
        max_size: Optional[int] = None,
        cacert: Optional[str] = None,
        cert: Optional[str] = None,
        key: Optional[str] = None,
    ) -> None:
        tls = (cacert, cert, key) if (cacert or cert or key) else None
        self._native = _native.Store.open(os.fspath(location), timeout, max_size, tls)

    @classmethod
    def memory(cls, timeout: float = 5.0, *, max_size: Optional[int] = None) -> "Store":
        """A store in memory, with the same semantics (locks between threads,
        compare-and-swap, names, limits), for tests. It lives as long as the object."""
        store = cls.__new__(cls)
        store._native = _native.Store.memory(timeout, max_size)
        return store

    # Reads and changes.

    def get(self, document: str, key: Optional[str] = None) -> Any:
        """The value at `key` (the whole document without one). Raises `NotFound` for a
        missing document or key. Takes no lock."""
        return json.loads(self._native.get(document, key or ""))

    def set(self, document: str, key: str, value: Any) -> None:
        """Sets `key` to `value`, creating the document and missing parent objects."""
        self._native.change(document, "set", key, _dumps(value))

    def unset(self, document: str, key: str) -> None:
        """Removes `key`; `NotFound` if it is not there."""
        self._native.change(document, "unset", key)

    def incr(self, document: str, key: str, by: Union[int, float] = 1) -> Union[int, float]:
        """Adds `by` to the number at `key` (a missing key counts as 0) and returns the new
        value; integers stay exact, and an overflow of 64 bits is refused."""
        answer: Union[int, float] = json.loads(self._native.change(document, "incr", key, _dumps(by)))
        return answer

    def merge(self, document: str, patch: Document, key: str = "") -> None:
        """Applies the RFC 7396 merge patch `patch` at `key` (the whole document by default):
        objects merge, `None` removes a key, anything else replaces."""
        self._native.change(document, "merge", key, _dumps(patch))

    @contextmanager
    def update(self, document: str, timeout: Optional[float] = None) -> Iterator[Document]:
        """The document as a dict (`{}` where there is none), with its lock held for the
        block. On a clean exit what the block changed is written once, atomically and
        durably, as edits of the text in place (the rest of the file keeps its bytes); if
        the block raises or changes nothing, nothing is written."""
        session = self._native.update(document, timeout)
        try:
            value = _document(document, session.text())
            yield value
            session.commit(_dumps(value))
        finally:
            session.abort()

    def read(self, document: str) -> Snapshot:
        """The document's text and revision, one whole committed version. Takes no lock."""
        text, revision = self._native.read(document)
        return Snapshot(text, revision, document)

    def save(self, document: str, text: str, expected: Optional[str] = None) -> str:
        """Compare-and-swap: writes `text` if the document's revision is `expected` (`None`:
        if it does not exist), else raises `Conflict`. Returns the new revision."""
        return self._native.save(document, text, expected)

    def ls(self, directory: str = "") -> List[str]:
        """The documents directly in `directory` (the top level by default), sorted."""
        return self._native.ls(directory)

    def rm(self, document: str) -> None:
        """Removes the document, under its lock."""
        self._native.rm(document)

    def lock_status(self, document: str) -> LockStatus:
        """Whether the document's lock is held, without taking it."""
        held, holder, since, lease = self._native.lock_status(document)
        return LockStatus(held, holder, since, None if lease is None else Lease(*lease))

    def watch(
        self, document: str, key: Optional[str] = None, *, timeout: Optional[float] = None
    ) -> Iterator[Any]:
        """The document's value (or the value at `key`) now, then each new one as it
        changes: `None` while the document (or key) does not exist. Values that repeat are
        given once. Runs until the caller stops iterating or, with `timeout`, until that
        many seconds pass after a value with no new one (`timeout=0`: the value now only).
        Where the backend says states may have been missed (etcd compacted its history
        while the watch was cut off), a `MissedChanges` warning comes before the value."""
        watching = _Watching(document, key, _seconds(timeout))
        return self._watch(watching)

    def _watch(self, watching: _Watching) -> Iterator[Any]:
        watch = self._native.watch(watching.document)
        while True:
            wait = watching.wait()
            if wait is None:
                return
            value = watching.new_value(watch, watch.next(wait))
            if value is not _UNSEEN:
                yield value
                watching.given()

    # The same off the event loop.

    async def aget(self, document: str, key: Optional[str] = None) -> Any:
        """`get`, off the event loop."""
        return await _off_loop(self.get, document, key)

    async def aset(self, document: str, key: str, value: Any) -> None:
        """`set`, off the event loop."""
        await _off_loop(self.set, document, key, value)

    async def aunset(self, document: str, key: str) -> None:
        """`unset`, off the event loop."""
        await _off_loop(self.unset, document, key)

    async def aincr(self, document: str, key: str, by: Union[int, float] = 1) -> Union[int, float]:
        """`incr`, off the event loop."""
        return await _off_loop(self.incr, document, key, by)

    async def amerge(self, document: str, patch: Document, key: str = "") -> None:
        """`merge`, off the event loop."""
        await _off_loop(self.merge, document, patch, key)

    async def als(self, directory: str = "") -> List[str]:
        """`ls`, off the event loop."""
        return await _off_loop(self.ls, directory)

    async def arm(self, document: str) -> None:
        """`rm`, off the event loop."""
        await _off_loop(self.rm, document)

    async def alock_status(self, document: str) -> LockStatus:
        """`lock_status`, off the event loop."""
        return await _off_loop(self.lock_status, document)

    async def aread(self, document: str) -> Snapshot:
        """`read`, off the event loop."""
        return await _off_loop(self.read, document)

    async def asave(self, document: str, text: str, expected: Optional[str] = None) -> str:
        """`save`, off the event loop."""
        return await _off_loop(self.save, document, text, expected)

    @asynccontextmanager
    async def aupdate(self, document: str, timeout: Optional[float] = None) -> AsyncIterator[Document]:
        """`update`, with the lock wait and the write off the event loop."""
        session = await _off_loop(self._native.update, document, timeout)
        try:
            value = _document(document, session.text())
            yield value
            await _off_loop(session.commit, _dumps(value))
        finally:
            session.abort()

    def awatch(
        self, document: str, key: Optional[str] = None, *, timeout: Optional[float] = None
    ) -> AsyncIterator[Any]:
        """`watch`, as an async iterator (`async for value in store.awatch(...)`): each wait
        runs on a worker thread, a slice of a second at a time, so that cancelling the task
        that iterates ends it promptly."""
        watching = _Watching(document, key, _seconds(timeout))
        return self._awatch(watching)

    async def _awatch(self, watching: _Watching) -> AsyncIterator[Any]:
        watch = await _off_loop(self._native.watch, watching.document)
        while True:
            wait = watching.wait()
            if wait is None:
                return
            value = watching.new_value(watch, await _off_loop(watch.next, wait))
            if value is not _UNSEEN:
                yield value
                watching.given()


class _Watching:
    """What `watch` and `awatch` share: which values are new, the backend's notices, and how
    long the next wait may last."""

    def __init__(self, document: str, key: Optional[str], timeout: Optional[float]) -> None:
        self.document = document
        self.key = key
        self.timeout = timeout
        self.last: Any = _UNSEEN
        self.idle_since = time.monotonic()

    def wait(self) -> Optional[float]:
        """How long the next wait lasts: a slice, so that the caller stays interruptible, at
        most what is left of the timeout; `None` once the timeout has passed since the last
        value given (never before the first, which comes at once)."""
        if self.timeout is None:
            return _WATCH_SLICE
        left = self.idle_since + self.timeout - time.monotonic()
        if left <= 0 and self.last is not _UNSEEN:
            return None
        return min(_WATCH_SLICE, max(left, 0.0))

    def given(self) -> None:
        """A value was given: the timeout counts from now, when the caller asks for the next."""
        self.idle_since = time.monotonic()

    def new_value(self, watch: _native.Watch, seen: Optional[Tuple[bool, str, str]]) -> Any:
        """The value of the state `seen`, if it differs from the last one given, else
        `_UNSEEN`; first, what the backend noticed (states it may have missed), as a
        `MissedChanges` warning at the caller's loop."""
        notice = watch.take_notice()
        if notice is not None:
            warnings.warn(MissedChanges(notice), stacklevel=3)
        if seen is None:
            return _UNSEEN
        value = self._value_in(seen)
        if value == self.last:
            return _UNSEEN
        self.last = value
        return value

    def _value_in(self, seen: Tuple[bool, str, str]) -> Any:
        """The value watched in the state `seen`: `None` where the document or key is not."""
        exists, text, _revision = seen
        if not exists:
            return None
        if not self.key:
            return _document(self.document, text)
        try:
            return json.loads(_native.value_at(self.document, text, self.key))
        except NotFound:
            return None


async def _off_loop(call: Callable[..., T], *args: Any) -> T:
    """`call(*args)` on a worker thread (what `asyncio.to_thread` does, from Python 3.9)."""
    return await asyncio.get_running_loop().run_in_executor(None, lambda: call(*args))

