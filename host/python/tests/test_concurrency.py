"""Across threads and processes: no lost update, the GIL released while waiting, and a
process killed inside an update leaving the old document and a free lock."""

from __future__ import annotations

import json
import os
import pathlib
import signal
import subprocess
import sys
import threading
import time

import confine

from conftest import OTHER_LOCKER

COUNT = "count.json"


def test_eight_threads_lose_no_increment(tmp_path: pathlib.Path) -> None:
    store = confine.Store(tmp_path, timeout=60.0)
    threads = [threading.Thread(target=lambda: [store.incr(COUNT, "n") for _ in range(200)]) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.get(COUNT, "n") == 8 * 200


def test_a_thread_waiting_for_a_lock_lets_others_run(tmp_path: pathlib.Path) -> None:
    store = confine.Store(tmp_path, timeout=1.0)
    waited = threading.Event()

    def wait_for_the_lock() -> None:
        try:
            with store.update(COUNT, timeout=1.0):
                pass
        except confine.LockTimeout:
            waited.set()

    with store.update(COUNT):
        waiter = threading.Thread(target=wait_for_the_lock)
        waiter.start()
        spins, start = 0, time.monotonic()
        while time.monotonic() - start < 0.5:
            spins += 1
        waiter.join()
    assert waited.is_set(), "the waiter did not time out while the lock was held"
    # Had the waiter kept the GIL, this thread could not have run meanwhile.
    assert spins > 10_000, spins


PYTHON_WRITER = """
import sys, confine
store = confine.Store(sys.argv[1], timeout=60.0)
for _ in range(int(sys.argv[2])):
    store.incr("count.json", "n")
"""


def test_python_processes_the_cli_and_the_designs_lockf_pattern_lose_no_increment(
    tmp_path: pathlib.Path, confine_bin: str
) -> None:
    each = 40
    writers = [subprocess.Popen([sys.executable, "-c", PYTHON_WRITER, str(tmp_path), str(each)]) for _ in range(3)]
    writers += [
        subprocess.Popen(
            ["sh", "-c", f'for i in $(seq {each}); do "$0" --dir "$1" --timeout 60s incr {COUNT} n >/dev/null || exit 1; done', confine_bin, str(tmp_path)]
        )
        for _ in range(2)
    ]
    writers += [
        subprocess.Popen(
            [sys.executable, str(OTHER_LOCKER), "write", "lockf", str(tmp_path / COUNT), str(each)],
            stdout=subprocess.DEVNULL,
        )
        for _ in range(2)
    ]
    for writer in writers:
        assert writer.wait(timeout=300) == 0
    assert json.loads((tmp_path / COUNT).read_text())["n"] == len(writers) * each


HOLDER = """
import sys, time, confine
store = confine.Store(sys.argv[1])
with store.update("count.json") as doc:
    doc["n"] = 999
    print("inside", flush=True)
    time.sleep(60)
"""


def test_a_process_killed_inside_an_update_leaves_the_old_document_and_a_free_lock(tmp_path: pathlib.Path) -> None:
    store = confine.Store(tmp_path, timeout=5.0)
    store.set(COUNT, "n", 1)
    before = (tmp_path / COUNT).read_bytes()
    child = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stdout.readline().strip() == "inside"
    assert store.lock_status(COUNT).held
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    with store.update(COUNT, timeout=0.0) as doc:  # free at once: no wait at all
        assert doc == {"n": 1}
    assert (tmp_path / COUNT).read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [COUNT, COUNT + ".lock"], "a temp file was left"
