"""README.md's "From PyTorch" snippet, run exactly as written."""

from __future__ import annotations

import os
import re

README = os.path.join(os.path.dirname(__file__), "..", "..", "..", "README.md")


def snippet() -> str:
    text = open(README, encoding="utf-8").read()
    section = text.split("## From PyTorch", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(blocks) == 1, "the From PyTorch section has exactly one Python block"
    return blocks[0]


def test_the_readme_snippet_goes_from_a_module_to_served_outputs_in_under_ten_lines(tmp_path, monkeypatch, host_dll):
    code = snippet()
    lines = [line for line in code.splitlines() if line.strip()]
    assert len(lines) < 10, code
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md (From PyTorch)", "exec"), {"__name__": "readme"})
    assert sorted(os.listdir(tmp_path)) == ["my-lstm.json", "my-lstm.safetensors"]
