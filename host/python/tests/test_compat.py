"""`confine.compat.safe_config_update`: the design's context manager, made safe."""

from __future__ import annotations

import pathlib

import pytest

import confine
from confine.compat import safe_config_update


def test_read_gives_an_empty_config_for_a_missing_file(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "config.json"
    with safe_config_update(path) as update:
        assert update.read() == {}
    assert not path.exists(), "reading wrote nothing"


def test_write_is_atomic_durable_and_keeps_the_layout(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "config.json"
    path.write_text('{\n  "keep":  [1, 2],\n  "key": "old"\n}\n')
    with safe_config_update(path) as update:
        config = update.read()
        config["key"] = "value"
        update.write(config)
    assert path.read_text() == '{\n  "keep":  [1, 2],\n  "key": "value"\n}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json", "config.json.lock"]


def test_the_lock_is_the_files_and_excludes_other_writers(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "config.json"
    with safe_config_update(path) as update:
        update.read()
        with pytest.raises(confine.LockTimeout):
            with safe_config_update(path, timeout=0.2):
                pass
        update.write({"n": 1})
    assert confine.Store(tmp_path).get("config.json") == {"n": 1}


def test_invalid_configs_are_refused_and_nothing_is_written(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "config.json"
    path.write_text('{"a": 1, "a": 2}')
    with pytest.raises(confine.InvalidDocument, match="duplicate"):
        with safe_config_update(path):
            pass
    assert path.read_text() == '{"a": 1, "a": 2}'
