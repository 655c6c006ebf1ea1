"""The README's "From Python" example runs as written (on a temporary directory in place of
/etc/myapp)."""

from __future__ import annotations

import pathlib

from conftest import REPO


def test_the_readme_example_runs(tmp_path: pathlib.Path) -> None:
    readme = (REPO / "README.md").read_text()
    section = readme.split("## From Python", 1)[1]
    example = section.split("```python\n", 1)[1].split("```", 1)[0]
    code = compile(example.replace("/etc/myapp", str(tmp_path)), "README.md (From Python)", "exec")
    exec(code, {})
    assert (tmp_path / "app.json").exists() and (tmp_path / "config.json").exists()
    assert (tmp_path / "tool.toml").read_text() == "[tool.lint]\nline-length = 100\n"
