"""``dyadlab study analyse``: the protocol's plan run on the study's data.

The study is the demo's (the ``demo_out`` fixture: 8 simulated couples x 5 days answered
through the platform's HTTP API, created from the example protocol and its plan). The
numbers in the report must equal ``dl.diary`` and ``dl.truth_bias`` on the file
``dyadlab export`` writes.
"""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

import dyadlab as dl
from dyadlab.cli import main
from dyadlab.platform.tables import AuditLog, Study


@pytest.fixture
def demo_db(demo_out: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A copy of the demo's database, named by DYADLAB_DATABASE_URL."""
    copy = tmp_path / "demo.db"
    shutil.copy(demo_out / "dyadlab.db", copy)
    url = f"sqlite:///{copy}"
    monkeypatch.setenv("DYADLAB_DATABASE_URL", url)
    return url


def _run(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def _estimates(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows)[["effect", "predictor", "role", "estimate", "se"]]


def _same(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    expected = expected[["effect", "predictor", "role", "estimate", "se"]].reset_index(drop=True)
    assert got["effect"].tolist() == expected["effect"].tolist()
    np.testing.assert_allclose(got["estimate"], expected["estimate"], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(got["se"], expected["se"], rtol=1e-9, atol=1e-12)


def test_cli_report_numbers_equal_the_models_on_the_export(demo_db, tmp_path, capsys) -> None:
    report = tmp_path / "plan.html"
    code, out, err = _run(capsys, "study", "analyse", 1, "--out", report, "--json")
    assert code == 0, err
    result = json.loads(out)
    code, _, err = _run(capsys, "export", 1, "--out", tmp_path / "study.csv")
    assert code == 0, err
    data = dl.read_table(tmp_path / "study.csv")
    keys = {"dyad": "dyad", "person": "person", "time": "diary_day"}
    with warnings.catch_warnings():  # rows left out for missed days: counted, as expected
        warnings.simplefilter("ignore", dl.DyadlabWarning)
        diary = dl.diary(data, y="relationship_satisfaction", x=["desire", "conflict"], **keys)
        with_roles = data[data["role"].notna()]
        tb = dl.truth_bias(
            with_roles, judgment="partner_desire", truth="desire", role="role", **keys
        )
        binary = dl.diary(data, y="had_sex", x=["desire", "conflict"], family="binomial", **keys)
    _same(_estimates(result["results"]["diary_all"]["estimates"]), diary.estimates)
    _same(_estimates(result["results"]["truth_bias_by_role"]["estimates"]), tb.estimates)
    _same(_estimates(result["results"]["had_sex_glmm_all"]["estimates"]), binary.estimates)

    html = report.read_text(encoding="utf-8")
    engine = create_engine(demo_db)
    with Session(engine) as session:
        study = session.get(Study, 1)
        assert study is not None
        assert result["protocol_hash"] == study.protocol_hash
        assert study.protocol_hash in html
        assert study.created_at.strftime("%Y-%m-%d %H:%M:%S UTC") in html
        rows = session.scalars(select(AuditLog).where(AuditLog.action == "analyse")).all()
        assert len(rows) == 1 and rows[0].detail["models"] == 5
        assert rows[0].subject.startswith("cli:")
    engine.dispose()
    estimate = diary.estimates.set_index(["effect", "predictor"]).loc[("actor", "desire")]
    assert f"{estimate['estimate']:.3f}" in html  # the table shows the same number
    for title in ("Plan 3: Diary APIM", "Plan 5: Truth and bias", "Analysis plan"):
        assert title in html
    assert "Not preregistered" not in html
    assert "- model: truth_bias\n  judgment: partner_desire\n  truth: desire" in html
    assert [m["preregistered"] for m in result["models"]] == [True] * 5


def test_extra_models_are_marked_not_preregistered(demo_db, tmp_path, capsys) -> None:
    extra = tmp_path / "extra.yaml"
    extra.write_text(
        "analysis:\n  - model: diary\n    y: desire\n    x: [conflict]\n    center: person\n",
        encoding="utf-8",
    )
    report = tmp_path / "plan.html"
    code, out, err = _run(
        capsys, "study", "analyse", 1, "--out", report, "--extra", extra, "--json"
    )
    assert code == 0, err
    result = json.loads(out)
    assert result["models"][-1] == {
        "model": "diary",
        "arguments": {"y": "desire", "x": ["conflict"], "center": "person"},
        "preregistered": False,
    }
    assert "diary_2_all" in result["results"]
    html = report.read_text(encoding="utf-8")
    assert "Not preregistered: Diary APIM" in html
    assert "not in the preregistered plan (exploratory)" in html
    assert "# added by hand, not preregistered:\nextra:\n- model: diary" in html


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "pdf"], "format='pdf'"),
        ([], "--out FILE is required"),
    ],
)
def test_cli_refuses_bad_options_clearly(demo_db, tmp_path, capsys, args, message) -> None:
    out = [] if not args and message.startswith("--out") else ["--out", tmp_path / "r.x"]
    code, _, err = _run(capsys, "study", "analyse", 1, *out, *args)
    assert code == 2
    assert message in err and "Traceback" not in err


def test_cli_refuses_a_bad_extra_model_and_a_missing_study(demo_db, tmp_path, capsys) -> None:
    extra = tmp_path / "extra.yaml"
    extra.write_text("analysis:\n  - model: apim\n    y: mood\n    x: desire\n", encoding="utf-8")
    code, _, err = _run(
        capsys, "study", "analyse", 1, "--out", tmp_path / "r.html", "--extra", extra
    )
    assert code == 1
    assert "extra[0].y: there is no item 'mood'" in err
    code, _, err = _run(capsys, "study", "analyse", 99, "--out", tmp_path / "r.html")
    assert code == 1 and "There is no study 99" in err


def test_a_study_without_a_plan_says_how_to_get_one(tmp_path, monkeypatch, capsys) -> None:
    import yaml

    from dyadlab.platform.protocol import example_protocol

    monkeypatch.setenv("DYADLAB_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    content = example_protocol().to_dict()
    del content["analysis"]
    path = tmp_path / "noplan.yaml"
    path.write_text(yaml.safe_dump(content), encoding="utf-8")
    assert _run(capsys, "study", "create", path)[0] == 0
    code, _, err = _run(capsys, "study", "analyse", 1, "--out", tmp_path / "r.html")
    assert code == 1
    assert "has no analysis plan" in err and "--extra" in err


def _shown(cells: set[str], value: float) -> bool:
    """Whether some cell shows ``value`` rounded to the cell's own decimals."""
    for text in cells:
        t = text.replace("\u2212", "-").strip()
        try:
            number = float(t)
        except ValueError:
            continue
        decimals = len(t.split(".")[1]) if "." in t else 0
        if abs(number - value) <= 0.5 * 10.0**-decimals + 1e-12:
            return True
    return False


def test_cli_writes_the_plan_report_as_word(demo_db, tmp_path, capsys) -> None:
    docx = pytest.importorskip("docx")
    report = tmp_path / "plan.docx"
    code, out, err = _run(
        capsys, "study", "analyse", 1, "--out", report, "--format", "docx", "--json"
    )
    assert code == 0, err
    result = json.loads(out)
    document = docx.Document(str(report))
    cells = {c.text for t in document.tables for row in t.rows for c in row.cells}
    actor = [
        r["estimate"] for r in result["results"]["diary_all"]["estimates"] if r["effect"] == "actor"
    ]
    assert actor and all(_shown(cells, v) for v in actor)
