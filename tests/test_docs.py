"""The docs cannot rot: every Python block of every docs page runs.

Each page's ```` ```python ```` blocks run in order, in one namespace, in a temporary
working folder. A block that must not run (e.g. one that starts a server) is marked by
the HTML comment ``<!-- docs-test: skip -->`` on the line before its fence; blocks in
other languages (``console``, ``r``, ``yaml``) are never run. Pages whose blocks a
dedicated test runs (and checks the numbers of) are listed in ``COVERED_ELSEWHERE``;
here we only check that that test exists and reads the page. Every page must be in the
MkDocs nav, and ``mkdocs build --strict`` runs in a test marked ``slow``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import matplotlib
import pytest
import yaml

from tests.reference.fixtures import DATA_WARNINGS_EXPECTED

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
SKIP_MARKER = "<!-- docs-test: skip -->"
BLOCK = re.compile(r"(?P<before>^.*\n)?```python\n(?P<code>.*?)```", re.S | re.M)

# page -> the test that runs its code blocks and checks their results
COVERED_ELSEWHERE = {
    "tutorials/apim.md": "tests/models/test_apim_tutorial.py",
    "tutorials/truth_bias.md": "tests/models/test_truth_bias_tutorial.py",
    "tutorials/nonindependence.md": "tests/models/test_nonindependence.py",
    "tutorials/diary.md": "tests/models/test_diary.py",
    "tutorials/power.md": "tests/models/test_power.py",
    "tutorials/power_diary.md": "tests/models/test_power_diary_tutorial.py",
    "tutorials/observe.md": "tests/observe/test_observe_tutorial.py",
    "tutorials/protocols.md": "tests/platform/test_protocol_docs.py",
    "quickstart.md": "tests/test_readme.py",
}


def _pages() -> list[str]:
    return sorted(str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md"))


def python_blocks(text: str) -> list[str]:
    """The Python blocks of a page that are to run (those not marked to skip)."""
    blocks = []
    for match in re.finditer(r"```python\n(.*?)```", text, flags=re.S):
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        if before.strip() != SKIP_MARKER:
            blocks.append(match.group(1))
    return blocks


def test_skip_marker_leaves_out_only_the_marked_block() -> None:
    text = f"```python\na = 1\n```\n{SKIP_MARKER}\n```python\nb = 2\n```\n```console\nx\n```"
    assert python_blocks(text) == ["a = 1\n"]


# a page's example data may leave rows out: the DyadlabWarning saying so is the example's
# output; a ConvergenceWarning still fails
@DATA_WARNINGS_EXPECTED
@pytest.mark.parametrize("page", [p for p in _pages() if p not in COVERED_ELSEWHERE])
def test_page_code_runs(page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    path = DOCS / page
    namespace: dict[str, object] = {"__name__": "__docs__"}
    for block in python_blocks(path.read_text(encoding="utf-8")):
        exec(compile(block, str(path), "exec"), namespace)  # runs our own docs


@pytest.mark.parametrize("page", sorted(COVERED_ELSEWHERE))
def test_page_code_is_run_by_its_own_test(page: str) -> None:
    test = REPO / COVERED_ELSEWHERE[page]
    assert (DOCS / page).is_file()
    assert page.split("/")[-1] in test.read_text(encoding="utf-8")


def _nav_pages(nav: object) -> list[str]:
    if isinstance(nav, str):
        return [nav]
    if isinstance(nav, list):
        return [p for item in nav for p in _nav_pages(item)]
    if isinstance(nav, dict):
        return [p for value in nav.values() for p in _nav_pages(value)]
    return []


def test_every_docs_page_is_in_the_nav() -> None:
    config = yaml.safe_load((REPO / "mkdocs.yml").read_text(encoding="utf-8"))
    in_nav = set(_nav_pages(config["nav"]))
    tracked = subprocess.run(
        ["git", "ls-files", "docs"], cwd=REPO, capture_output=True, text=True, check=False
    ).stdout.split()
    pages = {str(Path(p).relative_to("docs")) for p in tracked if p.endswith(".md")}
    assert pages - in_nav == set()
    assert in_nav - set(_pages()) == set()


def test_readme_starts_with_the_two_commands() -> None:
    head = (REPO / "README.md").read_text(encoding="utf-8").splitlines()[:12]
    assert any("make demo" in line for line in head)
    assert any("make test" in line for line in head)


@pytest.mark.slow
def test_mkdocs_build_is_strict_and_clean(tmp_path: Path) -> None:
    mkdocs = Path(sys.executable).with_name("mkdocs")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run(
        [str(mkdocs), "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "WARNING" not in done.stderr
