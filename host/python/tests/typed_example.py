"""A typed user of the package: `mypy --strict` passes on it (test_typing.py)."""

from __future__ import annotations

import asyncio
import warnings
from typing import Any, Dict, List, Optional, Union

import confine
from confine.compat import safe_config_update


def configure(path: str) -> int:
    store = confine.Store(path, timeout=5.0)
    store.set("app.json", "server.port", 8080)
    port: Any = store.get("app.json", "server.port")
    restarts: Union[int, float] = store.incr("app.json", "stats.restarts")
    store.merge("app.json", {"log": {"level": "debug"}})
    with store.update("app.json") as doc:
        doc["server"]["port"] = 8443
    snap: confine.Snapshot = store.read("app.json")
    revision: str = store.save("app.json", snap.text, expected=snap.revision)
    names: List[str] = store.ls()
    status: confine.LockStatus = store.lock_status("app.json")
    holder: Optional[int] = status.holder
    lease: Optional[confine.Lease] = status.lease
    left: Optional[float] = None if lease is None else lease.remaining
    with warnings.catch_warnings():
        warnings.simplefilter("error", confine.MissedChanges)
        ports: List[Any] = list(store.watch("app.json", "server.port", timeout=0.5))
    with safe_config_update(f"{path}/config.json") as update:
        config: Dict[str, Any] = update.read()
        config["key"] = "value"
        update.write(config)
    try:
        store.get("app.json", "missing")
    except confine.NotFound as missing:
        print(missing)
    except confine.InternalError as bug:
        print(bug)
    print(port, revision, names, holder, left, ports)
    return int(restarts)


async def configure_async(store: confine.Store) -> None:
    await store.aincr("app.json", "n")
    async with store.aupdate("app.json") as doc:
        doc["n"] = 0
    names: List[str] = await store.als()
    status: confine.LockStatus = await store.alock_status("app.json")
    async for n in store.awatch("app.json", "n", timeout=0):
        print(n, names, status.lease)
    await store.arm("app.json")


if __name__ == "__main__":
    asyncio.run(configure_async(confine.Store.memory()))
