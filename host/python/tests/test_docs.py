"""The Python guide (docs/python.md) runs as written: every `python` block, in order, in one
namespace, on a temporary directory in place of /etc/myapp. (The other docs' examples are
run by `tests/it/docs/`, which allows Python blocks in this guide only.)"""

from __future__ import annotations

import pathlib
import re

from conftest import REPO


def test_the_python_guide_runs(tmp_path: pathlib.Path) -> None:
    guide = (REPO / "docs" / "python.md").read_text()
    blocks = re.findall(r"^```python\n(.*?)^```$", guide, flags=re.DOTALL | re.MULTILINE)
    assert blocks, "docs/python.md has no python block"
    namespace: dict[str, object] = {}
    for number, block in enumerate(blocks, 1):
        code = compile(block.replace("/etc/myapp", str(tmp_path)), f"docs/python.md (block {number})", "exec")
        exec(code, namespace)
    assert (tmp_path / "app.json").exists() and (tmp_path / "config.json").exists()
    assert (tmp_path / "tool.toml").read_text() == "[tool.lint]\nline-length = 100\n"
