"""TOML documents (named *.toml) from Python: the same calls, values as Python values, the
file's layout kept by every change, and Python's own tomllib reading what confine wrote."""

from __future__ import annotations

import pathlib
import tomllib

import pytest

import confine

MANIFEST = """\
# the project
[project]
name = "station"   # kept
version = "1.4.2"
dependencies = [
  "httpx",  # the client
]

[tool.ruff]
line-length = 100
"""


def test_every_call_reads_and_changes_toml_keeping_its_layout(tmp_path: pathlib.Path) -> None:
    (tmp_path / "pyproject.toml").write_text(MANIFEST)
    store = confine.Store(tmp_path)
    assert store.get("pyproject.toml", "project.name") == "station"
    assert store.get("pyproject.toml", "tool") == {"ruff": {"line-length": 100}}
    store.set("pyproject.toml", "project.version", "1.5.0")
    assert store.incr("pyproject.toml", "tool.ruff.line-length", 20) == 120
    store.merge("pyproject.toml", {"requires-python": ">=3.11"}, key="project")
    store.unset("pyproject.toml", "project.dependencies[0]")
    with store.update("pyproject.toml") as doc:
        doc["project"]["dependencies"].append("rich")
    text = (tmp_path / "pyproject.toml").read_text()
    # Each change its own lines; the comments, blank line and quoting of the rest kept.
    assert text == (
        "# the project\n"
        "[project]\n"
        'name = "station"   # kept\n'
        'version = "1.5.0"\n'
        'dependencies = ["rich"]\n'
        'requires-python = ">=3.11"\n'
        "\n"
        "[tool.ruff]\n"
        "line-length = 120\n"
    )
    assert tomllib.loads(text) == {
        "project": {
            "name": "station",
            "version": "1.5.0",
            "dependencies": ["rich"],
            "requires-python": ">=3.11",
        },
        "tool": {"ruff": {"line-length": 120}},
    }
    assert store.read("pyproject.toml").text == text
    assert store.read("pyproject.toml").value == tomllib.loads(text)


def test_toml_refusals_name_the_document_and_write_nothing(tmp_path: pathlib.Path) -> None:
    (tmp_path / "c.toml").write_text("n = 1\n")
    store = confine.Store(tmp_path)
    with pytest.raises(confine.InvalidValue, match="c.toml.*TOML has no null"):
        store.set("c.toml", "n", None)
    with pytest.raises(confine.InvalidValue, match="9223372036854775807"):
        store.set("c.toml", "n", 2**63)
    (tmp_path / "bad.toml").write_text("a = 1\na = 2\n")
    with pytest.raises(confine.InvalidDocument, match="bad.toml.*line 2"):
        store.incr("bad.toml", "a")
    assert (tmp_path / "c.toml").read_text() == "n = 1\n"
    assert (tmp_path / "bad.toml").read_text() == "a = 1\na = 2\n"


def test_a_new_toml_document_is_written_as_toml() -> None:
    store = confine.Store.memory()
    store.set("new.toml", "server", {"port": 8080, "hosts": ["a", "b"]})
    assert store.read("new.toml").text == '[server]\nport = 8080\nhosts = ["a", "b"]\n'
