"""confine: configuration documents that many processes, threads and machines update at
once, with no lost update and no torn file.

    import confine
    store = confine.Store("/etc/myapp", timeout=5.0)
    store.set("app.json", "server.port", 8080)
    with store.update("app.json") as doc:
        doc["server"]["port"] = 8443

Keys are the CLI's key paths (`server.port`, `hosts["eu.west"]`, `plugins[0]`); values are
JSON values as Python has them (dict, list, str, int, float, bool, None), strict: integers
exact to 64 bits, no NaN, no key twice. Every call that may wait (a lock, an fsync, etcd)
lets other Python threads run; threads of one process share one `Store` and its writes
(group commit). The `a`-prefixed methods (`await store.aincr(...)`, `async with
store.aupdate(...)`) run the same calls off the event loop.
"""

from __future__ import annotations

import asyncio
import json
import os
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any, AsyncIterator, Callable, Dict, Iterator, List, Optional, Tuple, TypeVar, Union

from . import _native
# Re-exported, each `as` itself: the package's public exceptions.
from ._errors import (
    Conflict as Conflict,
    Error as Error,
    InvalidDocument as InvalidDocument,
    InvalidKey as InvalidKey,
    InvalidName as InvalidName,
    InvalidValue as InvalidValue,
    LockTimeout as LockTimeout,
    NotFound as NotFound,
    StoreError as StoreError,
    TooLarge as TooLarge,
    TypeMismatch as TypeMismatch,
)

T = TypeVar("T")

#: A document's value: a JSON object as Python holds it.
Document = Dict[str, Any]

#: How long one wait of a watch lasts before Python may run signal handlers (Ctrl-C).
_WATCH_SLICE = 0.25


def _dumps(value: Any) -> str:
    """Strict JSON: no NaN or infinity (which no JSON reader takes back)."""
    return json.dumps(value, allow_nan=False, ensure_ascii=False)


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
class LockStatus:
    """Whether a document's lock is held, by which process and since when (seconds since the
    epoch), where that can be known."""

    held: bool
    holder: Optional[int]
    since: Optional[float]


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
        held, holder, since = self._native.lock_status(document)
        return LockStatus(held, holder, since)

    def watch(self, document: str, key: Optional[str] = None) -> Iterator[Any]:
        """The document's value (or the value at `key`) now, then each new one as it
        changes: `None` while the document (or key) does not exist. Values that repeat are
        given once. Runs until the caller stops iterating."""
        watch = self._native.watch(document)
        last: Any = object()
        while True:
            seen = watch.next(_WATCH_SLICE)
            if seen is None:
                continue
            value = self._value_in(document, seen, key)
            if value != last:
                last = value
                yield value

    @staticmethod
    def _value_in(document: str, seen: Tuple[bool, str, str], key: Optional[str]) -> Any:
        exists, text, _revision = seen
        if not exists:
            return None
        if not key:
            return _document(document, text)
        try:
            return json.loads(_native.value_at(document, text, key))
        except NotFound:
            return None

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


async def _off_loop(call: Callable[..., T], *args: Any) -> T:
    """`call(*args)` on a worker thread (what `asyncio.to_thread` does, from Python 3.9)."""
    return await asyncio.get_running_loop().run_in_executor(None, lambda: call(*args))

