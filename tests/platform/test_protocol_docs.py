"""The protocol tutorial runs and prints what it shows."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

TUTORIAL = Path(__file__).resolve().parents[2] / "docs" / "tutorials" / "protocols.md"


def _blocks(text: str) -> list[tuple[str, str]]:
    """Return (language, body) of every fenced code block of a Markdown page."""
    return [(m.group(1), m.group(2)) for m in re.finditer(r"```(\w*)\n(.*?)```", text, re.S)]


def test_tutorial_runs_and_prints_what_it_shows(capsys: pytest.CaptureFixture[str]) -> None:
    blocks = _blocks(TUTORIAL.read_text(encoding="utf-8"))
    namespace: dict[str, object] = {}
    ran = 0
    for i, (lang, body) in enumerate(blocks):
        if lang != "python":
            continue
        exec(compile(body, f"protocols.md block {i}", "exec"), namespace)
        ran += 1
        printed = capsys.readouterr().out
        shown = blocks[i + 1] if i + 1 < len(blocks) else ("python", "")
        assert shown[0] == "", f"block {i} should be followed by its output"
        for line in shown[1].splitlines():
            assert line.strip() in printed, (i, line, printed)
    assert ran == 4


def test_tutorial_cli_output_is_current(capsys: pytest.CaptureFixture[str]) -> None:
    from dyadlab.cli import main

    example = Path(__file__).resolve().parents[2] / "src" / "dyadlab" / "examples"
    assert main(["protocol", "check", str(example / "daily_diary.yaml")]) == 0
    printed = capsys.readouterr().out
    shown = _blocks(TUTORIAL.read_text(encoding="utf-8"))[0][1]
    for line in shown.splitlines()[1:]:
        assert line.strip() in printed, line
