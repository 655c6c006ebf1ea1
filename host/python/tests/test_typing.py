"""The package's types hold for a typed user: `mypy --strict` on `typed_example.py`."""

from __future__ import annotations

import pathlib
import shutil
import subprocess
import sys

import pytest


def test_a_typed_example_passes_mypy_strict() -> None:
    if shutil.which("mypy") is None and subprocess.run([sys.executable, "-m", "mypy", "--version"]).returncode:
        pytest.skip("mypy is not installed")
    example = pathlib.Path(__file__).with_name("typed_example.py")
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(example)], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
