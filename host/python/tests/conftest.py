"""Fixtures: a store on the filesystem and one in memory, for every test of the API; the
`confine` binary and the other locker's script for the tests across processes."""

from __future__ import annotations

import os
import pathlib
import shutil
from typing import Iterator

import pytest

import confine

REPO = pathlib.Path(__file__).resolve().parents[3]
OTHER_LOCKER = REPO / "tests" / "it" / "support" / "other_locker.py"


@pytest.fixture(params=["filesystem", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> Iterator[confine.Store]:
    """A fresh store of each kind, with a short lock timeout."""
    if request.param == "memory":
        yield confine.Store.memory(timeout=1.0)
    else:
        yield confine.Store(tmp_path, timeout=1.0)


@pytest.fixture
def confine_bin() -> str:
    """The `confine` binary `make test` built (CONFINE_BIN), or one on PATH."""
    found = os.environ.get("CONFINE_BIN") or shutil.which("confine")
    if not found:
        pytest.skip("no confine binary: set CONFINE_BIN")
    return found
