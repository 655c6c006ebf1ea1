"""Every call of the API and each refusal, on the filesystem and in memory, with the CLI's
keys, values and messages."""

from __future__ import annotations

import asyncio
import math
import pathlib
import threading
import time
from typing import List

import pytest

import confine

DOC = "app.json"


def test_set_get_unset_incr_merge(store: confine.Store) -> None:
    store.set(DOC, "server.port", 8080)
    store.set(DOC, 'hosts["eu.west"]', "web-1")
    assert store.get(DOC, "server.port") == 8080
    assert store.get(DOC) == {"server": {"port": 8080}, "hosts": {"eu.west": "web-1"}}
    assert store.incr(DOC, "stats.restarts") == 1
    assert store.incr(DOC, "stats.restarts", 41) == 42
    assert store.incr(DOC, "big", 2**63 - 1) == 2**63 - 1, "exact 64-bit integers"
    assert store.incr(DOC, "ratio", 0.5) == 0.5
    store.merge(DOC, {"log": {"level": "debug"}, "hosts": None})
    assert store.get(DOC, "log.level") == "debug"
    assert "hosts" not in store.get(DOC)
    store.merge(DOC, {"port": 9090}, key="server")
    assert store.get(DOC, "server") == {"port": 9090}
    store.unset(DOC, "log")
    assert "log" not in store.get(DOC)
    store.set(DOC, "list", [1, {"a": None}, "x"])
    store.set(DOC, "list[3]", True)
    assert store.get(DOC, "list") == [1, {"a": None}, "x", True]


def test_refusals_are_the_clis_and_fit_pythons_own(store: confine.Store) -> None:
    store.set(DOC, "name", "x")
    cases = [
        (lambda: store.get("missing.json"), confine.NotFound, LookupError, "missing.json: no such document"),
        (lambda: store.get(DOC, "nope"), confine.NotFound, LookupError, "app.json: key `nope` not found"),
        (lambda: store.unset(DOC, "nope"), confine.NotFound, LookupError, "app.json: key `nope` not found"),
        (lambda: store.set(DOC, "a..b", 1), confine.InvalidKey, ValueError, 'app.json: key path "a..b"'),
        (lambda: store.incr(DOC, "name"), confine.TypeMismatch, TypeError, "holds a string, not a number"),
        (lambda: store.incr(DOC, "n", 2**64), confine.InvalidValue, ValueError, "app.json: the increment"),
        (lambda: store.set("../out.json", "k", 1), confine.InvalidName, ValueError, '"../out.json"'),
        (lambda: store.set("x.json.lock", "k", 1), confine.InvalidName, ValueError, "lock"),
        (lambda: store.save(DOC, "{}", expected=None), confine.Conflict, confine.Error, "expected no document"),
        (lambda: store.save(DOC, "[1]", expected=None), confine.InvalidDocument, ValueError, "root must be"),
        (lambda: store.save("d.json", '{"a": 1, "a": 2}'), confine.InvalidDocument, ValueError, "duplicate"),
        (lambda: store.rm("missing.json"), confine.NotFound, LookupError, "missing.json"),
    ]
    for call, kind, python_kind, words in cases:
        with pytest.raises(kind) as raised:
            call()
        assert isinstance(raised.value, python_kind)
        assert isinstance(raised.value, confine.Error)
        assert words in str(raised.value), str(raised.value)
    with pytest.raises(confine.InvalidKey):
        store.get("missing.json", "a..b")  # the key is refused before the read, as by the CLI
    with pytest.raises(ValueError):
        store.set(DOC, "f", float("nan"))  # not JSON: refused before anything is sent
    assert store.get(DOC) == {"name": "x"}, "a refusal writes nothing"


def test_size_limit(tmp_path: pathlib.Path) -> None:
    for store in (confine.Store(tmp_path, max_size=64), confine.Store.memory(max_size=64)):
        store.set(DOC, "k", "x")
        with pytest.raises(confine.TooLarge, match="over the size limit of 64 bytes"):
            store.set(DOC, "k", "x" * 100)
        assert store.get(DOC, "k") == "x"


def test_read_save_compare_and_swap(store: confine.Store) -> None:
    first = store.save(DOC, '{"n": 1}\n', expected=None)
    snap = store.read(DOC)
    assert (snap.text, snap.revision, snap.value) == ('{"n": 1}\n', first, {"n": 1})
    second = store.save(DOC, '{"n": 2}\n', expected=snap.revision)
    assert second != first
    with pytest.raises(confine.Conflict):
        store.save(DOC, '{"n": 3}\n', expected=first)
    assert store.read(DOC).value == {"n": 2}


def test_ls_rm_lock_status(store: confine.Store) -> None:
    for name in ("b.json", "a.json"):
        store.set(name, "k", 1)
    assert store.ls() == ["a.json", "b.json"]
    assert store.lock_status("a.json") == confine.LockStatus(False, None, None)
    with store.update("a.json"):
        status = store.lock_status("a.json")
        assert status.held
        assert status.lease is None, "a lease is etcd's; here a lock lasts as long as its holder"
    store.rm("a.json")
    assert store.ls() == ["b.json"]


def test_update_writes_once_on_a_clean_exit_and_nothing_otherwise(store: confine.Store) -> None:
    with store.update(DOC) as doc:
        assert doc == {}
    with pytest.raises(confine.NotFound):
        store.read(DOC)  # an unchanged block writes nothing, not even an empty document
    with store.update(DOC) as doc:
        doc["server"] = {"port": 8080}
    revision = store.read(DOC).revision
    with pytest.raises(RuntimeError):
        with store.update(DOC) as doc:
            doc["server"]["port"] = 1
            raise RuntimeError("the block failed")
    with store.update(DOC) as doc:
        pass
    assert store.read(DOC).revision == revision, "a block that raised or changed nothing wrote"
    with store.update(DOC) as doc:
        doc["server"]["port"] = 8443
    assert store.get(DOC, "server.port") == 8443


def test_update_keeps_the_files_layout(tmp_path: pathlib.Path) -> None:
    text = '{\n    "name":   "app",\n    "server": { "port": 8080, "host": "h" },\n    "tags": [1,2]\n}\n'
    (tmp_path / DOC).write_text(text)
    store = confine.Store(tmp_path)
    with store.update(DOC) as doc:
        doc["server"]["port"] = 8443
    assert (tmp_path / DOC).read_text() == text.replace("8080", "8443"), "only the changed bytes change"
    with store.update(DOC) as doc:
        doc["tags"].append(3)
    changed = (tmp_path / DOC).read_text()
    before_tags = text.replace("8080", "8443").split('"tags"')[0]
    assert changed.startswith(before_tags), "what precedes the changed value keeps its bytes"
    assert store.get(DOC, "tags") == [1, 2, 3]


def test_update_holds_the_lock_for_the_block(store: confine.Store) -> None:
    with store.update(DOC) as doc:
        doc["n"] = 1
        with pytest.raises(confine.LockTimeout) as raised:
            store.update(DOC, timeout=0.2).__enter__()
        assert isinstance(raised.value, TimeoutError)
        assert "app.json" in str(raised.value)
    assert store.get(DOC, "n") == 1


def test_watch_sees_each_value(store: confine.Store) -> None:
    seen: list = []
    done = threading.Event()

    def watch() -> None:
        for value in store.watch(DOC, "n"):
            seen.append(value)
            if value == 3:
                done.set()
                return

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    time.sleep(0.3)
    for n in (1, 2, 3):
        store.set(DOC, "n", n)
        time.sleep(0.3)
    assert done.wait(10), seen
    assert seen == [None, 1, 2, 3]


BAD_TIMEOUTS = [(-1.0, "-1"), (math.nan, "nan"), (math.inf, "inf")]


def test_a_watch_refuses_a_timeout_that_is_negative_nan_or_infinite(store: confine.Store) -> None:
    store.set(DOC, "n", 1)
    for bad, words in BAD_TIMEOUTS:
        # The native wait, which the package's loops call slice by slice, and the API.
        for call in (
            lambda: store._native.watch(DOC).next(bad),
            lambda: store.watch(DOC, "n", timeout=bad),
            lambda: store.awatch(DOC, "n", timeout=bad),
        ):
            with pytest.raises(ValueError) as raised:
                call()
            message = str(raised.value).lower()
            assert "timeout must be a number of seconds >= 0" in message and words in message, message


def test_a_watch_with_a_timeout_ends_once_that_long_passes_with_no_new_value(store: confine.Store) -> None:
    assert list(store.watch(DOC, "n", timeout=0)) == [None], "timeout=0: the value now, and no wait"
    store.set(DOC, "n", 0)

    def writer() -> None:
        for n in (1, 2, 3):
            time.sleep(0.4)
            store.set(DOC, "n", n)

    thread = threading.Thread(target=writer)
    start = time.monotonic()
    thread.start()
    # Each new value starts the second again: the watch lasts past it, and ends a second after 3.
    seen = list(store.watch(DOC, "n", timeout=1.0))
    took = time.monotonic() - start
    thread.join()
    assert seen == [0, 1, 2, 3]
    assert 2.1 < took < 10, took


def test_asyncio_ls_rm_lock_status_and_watch(store: confine.Store) -> None:
    async def main() -> List[object]:
        for name in ("b.json", DOC):
            await store.aset(name, "n", 0)
        assert await store.als() == [DOC, "b.json"]
        await store.arm("b.json")
        assert await store.als() == [DOC]
        assert await store.alock_status(DOC) == confine.LockStatus(False, None, None)
        async with store.aupdate(DOC):
            assert (await store.alock_status(DOC)).held

        seen: List[object] = []

        async def watch() -> None:
            async for value in store.awatch(DOC, "n"):
                seen.append(value)

        ticks: List[float] = []
        watcher = asyncio.ensure_future(watch())
        for n in (1, 2, 3):
            for _ in range(15):
                ticks.append(time.monotonic())
                await asyncio.sleep(0.02)
            await store.aset(DOC, "n", n)
        for _ in range(15):
            ticks.append(time.monotonic())
            await asyncio.sleep(0.02)
        cancelled_at = time.monotonic()
        watcher.cancel()
        with pytest.raises(asyncio.CancelledError):
            await watcher
        took_to_cancel = time.monotonic() - cancelled_at
        assert seen == [0, 1, 2, 3]
        assert took_to_cancel < 0.1, f"cancelling the watch took {took_to_cancel:.2f} s"
        assert max(b - a for a, b in zip(ticks, ticks[1:])) < 0.2, "the loop stalled while the watch waited"
        return [value async for value in store.awatch(DOC, "n", timeout=0.2)]

    assert asyncio.run(main()) == [3], "with a timeout, awatch ends as watch does"


def test_the_exceptions_and_the_warning_are_exported_where_python_expects_them() -> None:
    assert issubclass(confine.InternalError, confine.Error)
    assert issubclass(confine.InternalError, RuntimeError), "`except RuntimeError` catches a bug in confine"
    assert not issubclass(confine.InternalError, (ValueError, OSError)), "not bad input, not the storage"
    assert confine.InternalError is confine._errors.InternalError, "the class errors.rs raises"
    assert "InternalError" in confine._errors.__all__
    assert issubclass(confine.MissedChanges, UserWarning), "shown by default, filtered as any warning"
    assert confine.MissedChanges is confine._errors.MissedChanges


def test_asyncio_calls_do_not_block_the_loop(store: confine.Store) -> None:
    async def main() -> list:
        ticks: list = []

        async def ticker() -> None:
            for _ in range(20):
                ticks.append(time.monotonic())
                await asyncio.sleep(0.02)

        with store.update(DOC):
            # The lock is held here: aupdate waits for it off the loop, and times out.
            waiting = asyncio.ensure_future(_update_with_timeout(store))
            await ticker()
            with pytest.raises(confine.LockTimeout):
                await waiting
        assert await store.aincr(DOC, "n") == 1
        async with store.aupdate(DOC) as doc:
            doc["m"] = 2
        assert await store.aget(DOC) == {"n": 1, "m": 2}
        await store.aset(DOC, "k", "v")
        await store.amerge(DOC, {"k": None})
        await store.aunset(DOC, "m")
        revision = (await store.aread(DOC)).revision
        await store.asave(DOC, '{"n": 5}', expected=revision)
        return ticks

    ticks = asyncio.run(main())
    assert len(ticks) == 20
    assert max(b - a for a, b in zip(ticks, ticks[1:])) < 0.2, "the loop stalled while a lock was awaited"


async def _update_with_timeout(store: confine.Store) -> None:
    async with store.aupdate(DOC, timeout=0.3):
        pass


def test_memory_stores_are_separate() -> None:
    a, b = confine.Store.memory(), confine.Store.memory()
    a.set(DOC, "k", 1)
    with pytest.raises(confine.NotFound):
        b.get(DOC)


def test_a_store_that_cannot_be_opened_says_why(tmp_path: pathlib.Path) -> None:
    with pytest.raises(confine.StoreError) as raised:
        confine.Store(tmp_path / "missing")
    assert raised.value.errno == 2
    assert "missing" in str(raised.value)
    with pytest.raises(ValueError, match="etcd"):
        if not confine._native.ETCD:
            confine.Store("etcd://127.0.0.1:1/p")
        else:
            raise ValueError("etcd is built in")
