"""A typed user of the package: `mypy --strict` passes on it (test_typing.py)."""

from __future__ import annotations

import asyncio
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
    with safe_config_update(f"{path}/config.json") as update:
        config: Dict[str, Any] = update.read()
        config["key"] = "value"
        update.write(config)
    try:
        store.get("app.json", "missing")
    except confine.NotFound as missing:
        print(missing)
    print(port, revision, names, holder)
    return int(restarts)


async def configure_async(store: confine.Store) -> None:
    await store.aincr("app.json", "n")
    async with store.aupdate("app.json") as doc:
        doc["n"] = 0


if __name__ == "__main__":
    asyncio.run(configure_async(confine.Store.memory()))
