"""Every code block of README.md and docs/quickstart.md runs as written (issue 20).

- ``python`` blocks run in order in one namespace, in a temporary folder;
- ``console`` blocks (and the README's bare first block) run command by command through
  a shell-free subprocess, in that same folder, which looks like the repository after
  ``make demo``: ``demo-output/`` is a small demo run (the ``demo_out`` fixture) and
  ``.venv/bin/dyadlab`` (and ``dyadlab`` on PATH) run this checkout's command line;
- ``text`` blocks in the README quote output: each must appear in what the Python
  blocks printed.

A block that is not run is marked in the page itself by the HTML comment
``<!-- docs-test: skip — REASON -->`` on the line before its fence; the reason is
required, and the skipped blocks are listed in ``EXPECTED_SKIPS`` so that one cannot be
skipped by accident.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import stat
import subprocess
import sys
from pathlib import Path

import matplotlib
import pytest

REPO = Path(__file__).resolve().parents[1]
PAGES = {"README.md": REPO / "README.md", "docs/quickstart.md": REPO / "docs" / "quickstart.md"}
SKIP = "<!-- docs-test: skip"
FENCE = re.compile(r"^```(?P<lang>[a-z]*)\n(?P<code>.*?)^```", re.S | re.M)

#: (page, first command of the block) -> why it is not run
EXPECTED_SKIPS = {
    ("README.md", "make demo"): "installs .venv and runs the full demo and the whole suite",
    ("docs/quickstart.md", "make demo"): "installs .venv and runs the full demo and the suite",
    ("docs/quickstart.md", "pip install 'dyadlab[platform]'"): "installs from the index",
}


def blocks(text: str) -> list[tuple[str, str, str | None]]:
    """(language, code, skip reason or None) of every fenced block of a page."""
    out = []
    for m in FENCE.finditer(text):
        before = text[: m.start()].rstrip("\n").rsplit("\n", 1)[-1].strip()
        reason = None
        if before.startswith(SKIP):
            reason = before.removeprefix(SKIP).removesuffix("-->").strip(" —-:")
            assert reason, f"a skipped block needs a reason: {before!r}"
        out.append((m.group("lang") or "console", m.group("code"), reason))
    return out


def commands(code: str) -> list[list[str]]:
    """The commands of a console block: continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", code)
    return [shlex.split(line, comments=True) for line in joined.splitlines() if line.strip()]


def test_every_skip_is_expected_and_has_a_reason() -> None:
    found = {}
    for page, path in PAGES.items():
        for _lang, code, reason in blocks(path.read_text(encoding="utf-8")):
            if reason is not None:
                first = shlex.join(commands(code)[0])
                key = next(
                    (k for k in EXPECTED_SKIPS if k[0] == page and first.startswith(k[1])), None
                )
                assert key is not None, f"{page}: unexpected skipped block {first!r}"
                found[key] = reason
    assert set(found) == set(EXPECTED_SKIPS)


def _fake_checkout(folder: Path, demo_out: Path) -> dict[str, str]:
    """``folder`` as a clone after ``make demo``; the environment for the commands."""
    (folder / "demo-output").symlink_to(demo_out, target_is_directory=True)
    bin_dir = folder / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    script = bin_dir / "dyadlab"
    script.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m dyadlab.cli "$@"\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    src = str(REPO / "src")
    path = os.environ.get("PYTHONPATH")
    return {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": f"{src}{os.pathsep}{path}" if path else src,
        "MPLBACKEND": "Agg",
    }


@pytest.mark.parametrize("page", sorted(PAGES))
def test_page_blocks_run_as_written(
    page: str, tmp_path: Path, demo_out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    env = _fake_checkout(tmp_path, demo_out)
    namespace: dict[str, object] = {"__name__": "__docs__"}
    printed = io.StringIO()
    ran = {"python": 0, "console": 0, "text": 0}
    for lang, code, reason in blocks(PAGES[page].read_text(encoding="utf-8")):
        if reason is not None:
            continue
        if lang == "python":
            with contextlib.redirect_stdout(printed):
                exec(compile(code, page, "exec"), namespace)  # runs our own docs
        elif lang == "console":
            for argv in commands(code):
                assert argv[0] in ("dyadlab", ".venv/bin/dyadlab"), f"{page}: cannot run {argv}"
                done = subprocess.run(
                    argv, cwd=tmp_path, env=env, capture_output=True, text=True, check=False
                )
                assert done.returncode == 0, f"{page}: {shlex.join(argv)}\n{done.stderr}"
                assert "Traceback" not in done.stderr
        elif lang == "text":
            for line in code.strip().splitlines():
                assert line.strip() in printed.getvalue(), f"{page}: not printed: {line!r}"
        else:
            raise AssertionError(f"{page}: a {lang!r} block that this test cannot run")
        ran[lang] += 1
    assert ran["python"] >= 1 and ran["console"] >= 1
    if page == "README.md":
        assert ran["text"] == 1
        assert (tmp_path / "my-report.html").is_file()
        assert (tmp_path / "figures").is_dir()
        assert (tmp_path / "apim.html").is_file()
