"""The design's own `safe_config_update`, made safe: code written to it runs with one changed
import (`from confine.compat import safe_config_update`).

    with safe_config_update(Path("/etc/myapp/config.json")) as update:
        config = update.read()
        config["key"] = "value"
        update.write(config)

The path's directory is the store; the lock is `<name>.lock` beside the file (the same lock
`fcntl.lockf`, `flock` and confine take), held from the start of the block until `write()`
(or the end of the block). `read()` gives `{}` for a missing file; `write()` is atomic
(temp file, fsync, rename, directory fsync) and durable when it returns, and changes only
the bytes of what changed. A second `write()` in the same block takes the lock again and
writes what changed since the first.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Any, Dict, Iterator, Optional, Union

from . import Store, _document, _dumps, _native

__all__ = ["ConfigUpdater", "safe_config_update"]


class ConfigUpdater:
    """What `safe_config_update` gives the block: `read()` and `write()`."""

    def __init__(self, store: Store, name: str, timeout: Optional[float]) -> None:
        self._store, self._name, self._timeout = store, name, timeout
        self._session: Optional[_native.Update] = store._native.update(name, timeout)

    def read(self) -> Dict[str, Any]:
        """The configuration now (`{}` where there is no file)."""
        return _document(self._name, self._held().text())

    def write(self, config: Dict[str, Any]) -> None:
        """Replaces the configuration with `config`, atomically and durably."""
        session = self._held()
        self._session = None
        try:
            session.commit(_dumps(config))
        finally:
            session.abort()

    def _held(self) -> _native.Update:
        if self._session is None:
            self._session = self._store._native.update(self._name, self._timeout)
        return self._session

    def _close(self) -> None:
        if self._session is not None:
            self._session.abort()
            self._session = None


@contextmanager
def safe_config_update(
    config_path: Union[str, "os.PathLike[str]"], timeout: Optional[float] = None
) -> Iterator[ConfigUpdater]:
    """Holds the lock of `config_path` for the block and gives its `read()` and `write()`.
    `timeout` (seconds) bounds the wait for the lock: `confine.LockTimeout` (a
    `TimeoutError`) after it; without one, 5 s."""
    path = os.fspath(config_path)
    directory, name = os.path.split(os.path.abspath(path))
    store = Store(directory, timeout if timeout is not None else 5.0)
    updater = ConfigUpdater(store, name, timeout)
    try:
        yield updater
    finally:
        updater._close()
