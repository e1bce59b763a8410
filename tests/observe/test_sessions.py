"""Readers (CSV, BORIS project and export, ELAN, SDIS), code books and bad input.

The BORIS project tests/observe/data/couple.boris was written by hand in BORIS's
documented project format (``ethogram``, ``subjects_conf``, ``observations`` with
``[time, subject, code, modifier, comment]`` events); BORIS's official example projects
could not be fetched here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import dyadlab as dl
from dyadlab.exceptions import DyadicDataError, FileFormatError

DATA = Path(__file__).parent / "data"


def _events(**change):
    base = {
        "session": [1, 1, 1],
        "coder": ["A"] * 3,
        "partner": ["p1", "p1", "p2"],
        "code": ["demand", "neutral", "withdraw"],
        "onset": [0.0, 3.0, 1.0],
        "offset": [3.0, 5.0, 4.0],
    }
    base.update(change)
    return pd.DataFrame(base)


def test_boris_project():
    s = dl.observe.read_boris(DATA / "couple.boris", coder="A")
    ev = s.events.sort_values(["partner", "onset"])
    states = ev[ev["offset"].notna()]
    assert states[["partner", "code", "onset", "offset"]].values.tolist() == [
        ["P1", "demand", 1.5, 6.25],
        ["P2", "withdraw", 4.0, 9.0],
        ["P2", "demand", 10.0, 12.5],
    ]
    point = ev[ev["offset"].isna()]
    assert point[["partner", "code", "onset"]].values.tolist() == [["P2", "laugh", 7.0]]
    assert set(s.sessions) == {"couple_07"}


def test_boris_table_csv_elan_sds(tmp_path):
    export = pd.DataFrame(
        {
            "Observation id": ["o1", "o1"],
            "Subject": ["P1", "P2"],
            "Behavior": ["demand", "laugh"],
            "Start (s)": [0.0, 2.0],
            "Stop (s)": [1.5, 2.0],
        }
    )
    s = dl.observe.read_boris_table(export, coder="B")
    assert s.events["offset"].isna().tolist() == [False, True]
    # ELAN, written with pympi
    import pympi

    eaf = pympi.Elan.Eaf()
    eaf.add_tier("partner_1")
    eaf.add_annotation("partner_1", 1000, 2500, "demand")
    eaf.add_annotation("partner_1", 3000, 4000, "neutral")
    path = tmp_path / "couple_3.eaf"
    eaf.to_file(str(path))
    e = dl.observe.read_elan(path, partners={"partner_1": "p1"}, coder="A")
    assert e.events[["session", "partner", "code", "onset", "offset"]].values.tolist() == [
        ["couple_3", "p1", "demand", 1.0, 2.5],
        ["couple_3", "p1", "neutral", 3.0, 4.0],
    ]
    # SDIS: an event-sequential and a timed-event session
    sds = tmp_path / "study.sds"
    sds.write_text("Timed ($aff = pos neg neu);\n<c1> pos,0-4 neg,4-0:07 /\n<c2> neu,1-2 /\n")
    t = dl.observe.read_sds(sds, coder="A")
    assert t.events[["session", "code", "onset", "offset"]].values.tolist() == [
        ["c1", "pos", 0.0, 4.0],
        ["c1", "neg", 4.0, 7.0],
        ["c2", "neu", 1.0, 2.0],
    ]
    esd = tmp_path / "events.sds"
    esd.write_text("Event pos neg;\n<d1> pos neg neg pos /\n")
    assert dl.observe.read_sds(esd).events["code"].tolist() == ["pos", "neg", "neg", "pos"]
    with pytest.raises(FileFormatError, match="declaration"):
        (tmp_path / "bad.sds").write_text("pos neg /")
        dl.observe.read_sds(tmp_path / "bad.sds")
    csv = tmp_path / "a.csv"
    _events().drop(columns="coder").to_csv(csv, index=False)
    assert dl.observe.read_csv(csv, coder="A").coders == ["A"]


def test_bad_input_names_session_coder_time():
    book = dl.observe.CodeBook({"conflict": ["demand", "withdraw", "neutral"]})
    with pytest.raises(DyadicDataError, match=r"session 1, coder 'A', time 3 s"):
        dl.observe.coded_sessions(_events(onset=[0.0, 3.0, 1.0], offset=[3.0, 2.0, 4.0]), book)
    with pytest.raises(
        DyadicDataError, match=r"'shout' is not in the code book \(session 1, coder 'A'"
    ):
        dl.observe.coded_sessions(_events(code=["demand", "shout", "withdraw"]), book)
    with pytest.raises(
        DyadicDataError, match=r"overlap for partner 'p1' \(session 1, coder 'A', time 2 s\)"
    ):
        dl.observe.coded_sessions(_events(onset=[0.0, 2.0, 1.0]), book)
    one = dl.observe.coded_sessions(_events(), book)
    with pytest.raises(DyadicDataError, match=r"needs exactly 2 coders"):
        dl.observe.time_unit_kappa(one)
    two = pd.concat([_events(), _events(coder=["B"] * 3), _events(session=[2] * 3)])
    with pytest.raises(DyadicDataError, match=r"session 2 is coded by coder A only"):
        dl.observe.time_unit_kappa(dl.observe.coded_sessions(two, book), coders=("A", "B"))


def test_schemes_and_codebook():
    for name in ("cirs", "spaff", "ssics"):
        book = dl.observe.scheme(name)
        assert len(book.codes) == len(set(book.codes)) >= 4
    with pytest.raises(DyadicDataError, match="belongs to one family"):
        dl.observe.CodeBook({"a": ["x"], "b": ["x"]})


def test_time_unit_kappa_by_hand():
    a = pd.DataFrame(
        {
            "session": 1,
            "coder": "A",
            "partner": "p",
            "code": ["x", "y"],
            "onset": [0.0, 4.0],
            "offset": [4.0, 8.0],
        }
    )
    b = a.assign(coder="B", onset=[0.0, 5.0], offset=[5.0, 8.0])
    s = dl.observe.coded_sessions(pd.concat([a, b]))
    tk = dl.observe.time_unit_kappa(s)
    # units 0-7: A = xxxxyyyy, B = xxxxxyyy: 7 of 8 agree; marginals A (4,4), B (5,3)
    po, pe = 7 / 8, (4 * 5 + 4 * 3) / 64
    assert tk.loc[0, "kappa"] == pytest.approx((po - pe) / (1 - pe))
    assert dl.observe.time_unit_kappa(s, tolerance=1).loc[0, "kappa"] == pytest.approx(1.0)
    tu = dl.observe.time_units(s)
    res = dl.observe.agreement(tu, unit="unit", coder="coder", code="code")
    assert res.estimates.loc[0, "estimate"] == pytest.approx(tk.loc[0, "kappa"])


def test_event_kappa_alignment():
    a = pd.DataFrame(
        {
            "session": 1,
            "coder": "A",
            "partner": "p",
            "code": ["x", "y", "x"],
            "onset": [0.0, 10.0, 20.0],
            "offset": np.nan,
        }
    )
    b = pd.DataFrame(
        {
            "session": 1,
            "coder": "B",
            "partner": "p",
            "code": ["x", "x", "y"],
            "onset": [0.5, 10.4, 30.0],
            "offset": np.nan,
        }
    )
    ek = dl.observe.event_kappa(dl.observe.coded_sessions(pd.concat([a, b])), tolerance=1.0)
    table = ek.loc[0, "table"]
    assert ek.loc[0, "codes"] == ["x", "y", "nothing"]
    # pairs: (x,x), (y,x); A's x at 20 s unmatched; B's y at 30 s unmatched
    assert table.tolist() == [[1, 0, 1], [1, 0, 0], [0, 1, 0]]
    assert ek.loc[0, "n"] == 4


BORIS_OWN = DATA / "boris_test.boris"  # BORIS's tests/files/test.boris (GPL-3.0; BORIS_NOTE.md)


def test_boris_own_test_project():
    import json

    raw = json.loads(BORIS_OWN.read_text(encoding="utf-8"))["observations"]
    # BORIS's own project has an observation whose state never stops: a clear message
    with pytest.raises(FileFormatError, match="'live not paired' and never stops"):
        dl.observe.read_boris(BORIS_OWN)
    keep = [o for o in raw if o != "live not paired"]
    s = dl.observe.read_boris(BORIS_OWN, observations=keep)
    ev = s.events
    # every stored event is used: a state's two events make one row, a point event one
    for obs in keep:
        events = raw[obs]["events"]
        n_state = sum(1 for e in events if e[2] in ("s", "r", "m"))
        n_point = len(events) - n_state
        got = ev[ev["session"] == obs]
        assert len(got) == n_state // 2 + n_point, obs
        assert got["offset"].notna().sum() == n_state // 2
    one = ev[ev["session"] == "observation #1"].sort_values("onset")
    assert one[["partner", "code", "onset", "offset"]].values.tolist() == [
        ["subject1", "s", 3.3, 7.75],
        ["subject1", "s", 9.9, 16.2],
        ["subject1", "s", 18.35, 24.475],
        ["subject2", "s", 38.425, 46.1],
    ]
    assert "No focal subject" in set(ev.loc[ev["session"] == "observation #2", "partner"])
    with pytest.raises(FileFormatError, match=r"not in boris_test\.boris"):
        dl.observe.read_boris(BORIS_OWN, observations=["nope"])


def test_boris_project_equals_boris_own_export_of_it():
    """BORIS's tests/files/test_export_aggregated_events_test_full_1.tsv is BORIS's own
    'aggregated events' export of observation #2 of test.boris (GPL-3.0; BORIS_NOTE.md)."""
    cols = ["partner", "code", "onset", "offset"]
    exported = dl.observe.read_boris_table(DATA / "boris_test_aggregated.tsv").events
    project = dl.observe.read_boris(BORIS_OWN, observations=["observation #2"]).events
    assert len(exported) == len(project) == 18
    a = exported[cols].sort_values(["onset", "partner"]).reset_index(drop=True)
    b = project[cols].sort_values(["onset", "partner"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)
