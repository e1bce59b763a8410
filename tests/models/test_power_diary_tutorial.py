"""docs/tutorials/power_diary.md: every block runs and prints what the page shows."""

from __future__ import annotations

from pathlib import Path

PAGE = Path(__file__).resolve().parents[2] / "docs" / "tutorials" / "power_diary.md"


def _blocks(text):
    out, lang, body = [], None, None
    for line in text.splitlines():
        if line.startswith("```"):
            if body is None:
                lang, body = line[3:].strip(), []
            else:
                out.append((lang, "\n".join(body)))
                body = None
        elif body is not None:
            body.append(line)
    return out


def test_power_diary_tutorial_runs_and_prints_what_the_page_shows(tmp_path, monkeypatch, capsys):
    import matplotlib

    matplotlib.use("Agg")
    blocks = _blocks(PAGE.read_text())
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    checked = 0
    for i, (lang, body) in enumerate(blocks):
        if lang != "python":
            continue
        exec(compile(body, f"power_diary.md block {i}", "exec"), namespace)
        printed = capsys.readouterr().out
        if i + 1 < len(blocks) and blocks[i + 1][0] == "" and printed:
            for line in blocks[i + 1][1].splitlines():
                assert line.strip() in printed, (i, line)
                checked += 1
    assert checked >= 15
    assert (tmp_path / "power_21_days.png").stat().st_size > 0
    import matplotlib.pyplot as plt

    plt.close("all")
