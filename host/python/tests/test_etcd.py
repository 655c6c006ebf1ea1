"""`etcd://` stores from Python, against a real etcd (Debian's) started here on free
loopback ports with a temporary data directory, and stopped by its pid whatever the test
does."""

from __future__ import annotations

import json
import pathlib
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import warnings
from typing import Any, Dict, Iterator, Optional

import pytest

import confine


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Etcd:
    """One etcd member: its client endpoint, and what a test does to it (stop it, start it
    again on the same ports and data, compact its history)."""

    def __init__(self, tmp_path: pathlib.Path) -> None:
        client, self.peer = free_port(), free_port()
        self.endpoint = f"127.0.0.1:{client}"
        self.data = tmp_path / "data"
        self.log = tmp_path / "etcd.log"
        self.member: Optional[subprocess.Popen[bytes]] = None

    def start(self) -> None:
        """Starts the member and waits until it answers confine."""
        peer = f"http://127.0.0.1:{self.peer}"
        with open(self.log, "a") as log:
            self.member = subprocess.Popen(
                [
                    "etcd", "--name", "py", "--data-dir", str(self.data),
                    "--listen-client-urls", f"http://{self.endpoint}", "--advertise-client-urls", f"http://{self.endpoint}",
                    "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                    "--initial-cluster", f"py={peer}", "--log-level", "error",
                ],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log,
            )
        deadline = time.monotonic() + 30
        while True:
            try:
                confine.Store(f"etcd://{self.endpoint}/ready", timeout=2.0).ls()
                return
            except confine.Error:
                assert self.member.poll() is None, self.log.read_text()
                assert time.monotonic() < deadline, "etcd did not start in 30 s"
                time.sleep(0.2)

    def kill(self) -> None:
        """Stops the member by its pid, at once (SIGKILL)."""
        if self.member is not None:
            self.member.kill()
            self.member.wait()
            self.member = None

    def compact_to_now(self) -> None:
        """Compacts etcd's history up to its newest revision, as `--auto-compaction` does in
        time, through etcd's JSON gateway (what `etcdctl compact` calls)."""
        # Any range answers with the store's revision in its header ("eA==": the key "x").
        revision = self._call("/v3/kv/range", {"key": "eA=="})["header"]["revision"]
        self._call("/v3/kv/compaction", {"revision": revision, "physical": True})

    def _call(self, path: str, body: Dict[str, Any]) -> Dict[str, Any]:
        url = f"http://{self.endpoint}{path}"
        headers = {"Content-Type": "application/json"}
        request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers)
        # No proxy from the environment: the member is on loopback.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(request, timeout=10) as response:
            answer: Dict[str, Any] = json.load(response)
            return answer


@pytest.fixture
def etcd(tmp_path: pathlib.Path) -> Iterator[Etcd]:
    """A one-member etcd, started."""
    if shutil.which("etcd") is None:
        pytest.skip("no etcd on PATH (Debian: apt-get install etcd-server)")
    if not confine._native.ETCD:
        pytest.skip("this wheel was built without etcd")
    member = Etcd(tmp_path)
    try:
        member.start()
        yield member
    finally:
        member.kill()


WRITER = """
import sys, confine
store = confine.Store(sys.argv[1], timeout=30.0)
for _ in range(int(sys.argv[2])):
    store.incr("count.json", "n")
"""


def test_every_call_and_processes_on_etcd(etcd: Etcd) -> None:
    url = f"etcd://{etcd.endpoint}/app"
    store = confine.Store(url, timeout=10.0)
    store.set("app.json", "server.port", 8080)
    assert store.incr("app.json", "n", 2) == 2
    with store.update("app.json") as doc:
        doc["server"]["port"] = 8443
    snap = store.read("app.json")
    assert snap.value == {"server": {"port": 8443}, "n": 2}
    with pytest.raises(confine.Conflict):
        store.save("app.json", "{}", expected=None)
    assert store.ls() == ["app.json"]
    with pytest.raises(confine.NotFound):
        store.get("missing.json")
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, url, "25"]) for _ in range(3)]
    for _ in range(25):
        store.incr("count.json", "n")
    for writer in writers:
        assert writer.wait(timeout=120) == 0
    assert store.get("count.json", "n") == 4 * 25
    store.rm("app.json")
    assert store.ls() == ["count.json"]


HOLDER = """
import sys, time, confine
store = confine.Store(sys.argv[1], timeout=30.0)
with store.update("app.json") as doc:
    doc["n"] = 1
    print("inside", flush=True)
    time.sleep(60)
"""


def test_a_held_lock_shows_the_lease_that_keeps_it(etcd: Etcd) -> None:
    url = f"etcd://{etcd.endpoint}/app"
    store = confine.Store(url, timeout=10.0)
    assert store.lock_status("app.json") == confine.LockStatus(False, None, None, None)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, url], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "inside"
        status = store.lock_status("app.json")
        assert status.held and status.holder == holder.pid, status
        lease = status.lease
        assert lease is not None, "etcd's lock is kept by a lease, which lock_status shows"
        assert lease.id != 0
        assert lease.granted == 10.0, "the store's lease time to live, 10 s by default, in seconds"
        assert 0 < lease.remaining <= lease.granted, lease
    finally:
        holder.kill()
        holder.wait()


def test_a_watch_that_cannot_resume_past_a_compaction_warns_and_gives_the_value_now(etcd: Etcd) -> None:
    url = f"etcd://{etcd.endpoint}/app"
    confine.Store(url, timeout=10.0).set("app.json", "n", 0)
    values = confine.Store(url, timeout=10.0).watch("app.json", "n")
    assert next(values) == 0
    # While the watch is not waiting, its member restarts (which ends the watch's stream),
    # the document changes and etcd compacts its history past what the watch saw.
    etcd.kill()
    etcd.start()
    writer = confine.Store(url, timeout=10.0)
    for n in range(1, 6):
        writer.set("app.json", "n", n)
    etcd.compact_to_now()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert next(values) == 5, "the value now, past the changes that were missed"
    missed = [w for w in caught if issubclass(w.category, confine.MissedChanges)]
    assert len(missed) == 1, [str(w.message) for w in caught]
    assert "compacted its history past revision" in str(missed[0].message), missed[0].message
    assert missed[0].filename == __file__, "the warning points at the loop that asked for the value"
