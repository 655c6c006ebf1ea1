"""`etcd://` stores from Python, against a real etcd (Debian's) started here on free
loopback ports with a temporary data directory, and stopped by its pid whatever the test
does."""

from __future__ import annotations

import pathlib
import shutil
import socket
import subprocess
import sys
import time
from typing import Iterator

import pytest

import confine


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def etcd(tmp_path: pathlib.Path) -> Iterator[str]:
    """The client endpoint of a one-member etcd."""
    if shutil.which("etcd") is None:
        pytest.skip("no etcd on PATH (Debian: apt-get install etcd-server)")
    if not confine._native.ETCD:
        pytest.skip("this wheel was built without etcd")
    client, peer = free_port(), free_port()
    endpoint = f"127.0.0.1:{client}"
    log = open(tmp_path / "etcd.log", "w")
    member = subprocess.Popen(
        [
            "etcd", "--name", "py", "--data-dir", str(tmp_path / "data"),
            "--listen-client-urls", f"http://{endpoint}", "--advertise-client-urls", f"http://{endpoint}",
            "--listen-peer-urls", f"http://127.0.0.1:{peer}", "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
            "--initial-cluster", f"py=http://127.0.0.1:{peer}", "--log-level", "error",
        ],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                confine.Store(f"etcd://{endpoint}/ready", timeout=2.0).ls()
                break
            except confine.Error:
                assert member.poll() is None, (tmp_path / "etcd.log").read_text()
                assert time.monotonic() < deadline, "etcd did not start in 30 s"
                time.sleep(0.2)
        yield endpoint
    finally:
        member.kill()
        member.wait()
        log.close()


WRITER = """
import sys, confine
store = confine.Store(sys.argv[1], timeout=30.0)
for _ in range(int(sys.argv[2])):
    store.incr("count.json", "n")
"""


def test_every_call_and_processes_on_etcd(etcd: str) -> None:
    url = f"etcd://{etcd}/app"
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
