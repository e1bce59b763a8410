"""Monthly (and other unit) state sequences: hand-made cases and simulated truth."""

from __future__ import annotations

import warnings

import pytest

import dyadlab as dl
from dyadlab.exceptions import DyadlabWarning

from .conftest import episodes

UNTIL = "2024-07-10"


def _seq(frame, unit="month"):
    return dl.history.sequences(frame, unit=unit, until=UNTIL)


@pytest.mark.parametrize(
    ("rows", "start", "states"),
    [
        pytest.param(
            [("p", "romantic", "2019-01", "2019-02"), ("p", "casual", "2019-02-20", "2019-04-02")],
            "2019-01",
            ["romantic", "casual+romantic", "casual", "casual"],
            id="overlap",
        ),
        pytest.param(
            [("p", "romantic", "2019-01", "2019-01"), ("p", "dating", "2019-04", "2019-05")],
            "2019-01",
            ["romantic", "none", "none", "dating", "dating"],
            id="gap",
        ),
        pytest.param(
            [("p", "casual", "2019-03-31", "2019-04-01")],
            "2019-03",
            ["casual", "casual"],
            id="one-day-overlap-counts",
        ),
        pytest.param(
            [
                ("p", "casual", "2019-12-05", "2020-01-20"),
                ("p", "casual", "2019-12-10", "2019-12-11"),
            ],
            "2019-12",
            ["casual", "casual"],
            id="same-type-twice",
        ),
        pytest.param(
            [
                ("p", "romantic", "2020-01", "2020-03"),
                ("p", "online", "2020-02", "2020-02"),
                ("p", "casual", "2020-02-28", "2020-02-29"),
            ],
            "2020-01",
            ["romantic", "casual+online+romantic", "romantic"],
            id="alphabetical",
        ),
        pytest.param([("p", "romantic", "2024-05", "")], "2024-05", ["romantic"] * 3, id="ongoing"),
        pytest.param(
            [("p", "dating", "2018-11-30", "2019-01-01"), ("p", "romantic", "2018-10", "2018-10")],
            "2018-10",
            ["romantic", "dating", "dating", "dating"],
            id="first-episode-not-first-row",
        ),
    ],
)
def test_monthly_states_by_hand(rows, start, states):
    res = _seq(episodes(*rows))
    assert len(res.sequences) == 1
    assert res.sequences[0].start == start
    assert res.sequences[0].states == states
    assert res.warnings == []


@pytest.mark.parametrize(
    ("unit", "start", "states"),
    [
        ("day", "2019-03-30", ["casual", "casual", "casual+romantic", "romantic"]),
        ("week", "2019-03-25", ["casual", "casual+romantic"]),  # Mon 25 Mar, Mon 1 Apr
        ("quarter", "2019Q1", ["casual", "casual+romantic"]),
        ("year", "2019", ["casual+romantic"]),
        ("month", "2019-03", ["casual", "casual+romantic"]),
    ],
)
def test_other_units_by_hand(unit, start, states):
    # casual 30 Mar (Sat) – 1 Apr (Mon) 2019; romantic 1 Apr (Mon) – 2 Apr (Tue)
    frame = episodes(
        ("p", "casual", "2019-03-30", "2019-04-01"), ("p", "romantic", "2019-04-01", "2019-04-02")
    )
    res = _seq(frame, unit)
    assert (res.sequences[0].start, res.sequences[0].states) == (start, states)


def test_week_starts_on_monday():
    frame = episodes(("p", "casual", "2019-03-03", "2019-03-04"))  # a Sunday and a Monday
    res = _seq(frame, "week")
    assert res.sequences[0].start == "2019-02-25"
    assert res.sequences[0].labels("week") == ["2019-02-25", "2019-03-04"]


def test_year_only_start_is_placed_in_july_and_warned():
    frame = episodes(("p", "casual", "2019", "2019-09"))
    with pytest.warns(DyadlabWarning, match="placed on the 1st of July"):
        res = _seq(frame)
    assert res.sequences[0].start == "2019-07"
    assert res.sequences[0].states == ["casual"] * 3
    assert len(res.warnings) == 1
    assert "line" not in res.warnings[0] and "row 0" in res.warnings[0]


def test_season_and_age_precisions_are_warned_per_kind():
    frame = episodes(
        ("p", "casual", "2019-07", "2019-09", "season", ""),
        ("q", "romantic", "2018", "2019-02-01", "age", "day"),
        ("q", "dating", "2018", "2018", "year", "year"),
    )
    with pytest.warns(DyadlabWarning):
        res = _seq(frame)
    text = "\n".join(res.warnings)
    assert "1 start date known to the season was placed on the 15th of the month (row 0)" in text
    assert "1 start date known only as an age" in text
    assert "1 start date known only to the year" in text and "1 end date known only" in text
    assert res.as_dict()["q"] == ["dating+romantic"] + ["romantic"] * 7


def test_month_precision_is_not_warned_for_months_but_for_days():
    frame = episodes(("p", "casual", "2019-03", "2019-04"))
    assert _seq(frame).warnings == []
    with pytest.warns(DyadlabWarning):
        res = _seq(frame, "day")
    assert [w.split(" was")[0] for w in res.warnings] == [
        "1 start date known to the month",
        "1 end date known to the month",
    ]
    assert res.sequences[0].start == "2019-03-15"
    assert len(res.sequences[0].states) == 32  # 15 March – 15 April


def test_imprecise_start_moved_onto_a_more_precise_end():
    frame = episodes(("p", "casual", "2019", "2019-03"))  # July would fall after March
    with pytest.warns(DyadlabWarning):
        res = _seq(frame)
    assert res.sequences[0].states == ["casual"]
    assert res.sequences[0].start == "2019-03"
    assert any("placed on 2019-03-15, the end" in w for w in res.warnings)


def test_end_after_until_is_cut_and_warned():
    frame = episodes(("p", "casual", "2024-06", "2024-09"))
    with pytest.warns(DyadlabWarning, match="cut there"):
        res = _seq(frame)
    assert res.sequences[0].states == ["casual", "casual"]


def test_persons_keep_their_order_and_json_shape():
    frame = episodes(("b", "casual", "2020-01", "2020-01"), ("a", "romantic", "2019-05", "2019-06"))
    out = _seq(frame).to_dict()
    assert [s["person"] for s in out["sequences"]] == ["b", "a"]
    assert out["model"] == "history_sequences" and out["unit"] == "month"
    assert out["sequences"][1] == {"person": "a", "start": "2019-05", "states": ["romantic"] * 2}
    assert out["warnings"] == [] and out["until"] == UNTIL


@pytest.mark.parametrize("seed", range(12))
def test_simulated_histories_give_their_known_sequences(seed):
    frame, truth = dl.history.simulate_episodes(25, rng=seed, imprecise=0.4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DyadlabWarning)
        res = dl.history.sequences(frame, until=truth.until)
    assert res.as_dict() == truth.sequences
    assert {s.person: s.start for s in res.sequences} == truth.starts


def test_simulation_mixes_precisions_and_overlaps():
    frame, truth = dl.history.simulate_episodes(200, rng=1)
    assert {"", "season", "age"} <= set(frame["start_precision"])
    lengths = frame["start"].str.len()
    assert {4, 7, 10} <= set(lengths)
    assert (frame["end"] == "").any()  # ongoing episodes
    assert any("+" in s for states in truth.sequences.values() for s in states)
    assert any("none" in states for states in truth.sequences.values())


def test_quarters_are_the_union_of_the_true_months():
    frame, truth = dl.history.simulate_episodes(30, rng=7, imprecise=0)
    res = dl.history.sequences(frame, unit="quarter", until=truth.until)
    for seq in res.sequences:
        months = truth.sequences[seq.person]
        first = truth.starts[seq.person]
        origin = int(first[:4]) * 12 + int(first[5:]) - 1
        by_quarter: dict[int, set[str]] = {}
        for i, state in enumerate(months):
            q = (origin + i) // 3
            by_quarter.setdefault(q, set()).update([] if state == "none" else state.split("+"))
        expected = ["+".join(sorted(s)) or "none" for _, s in sorted(by_quarter.items())]
        assert seq.states == expected


def test_unknown_unit_is_named():
    with pytest.raises(dl.DyadlabError, match=r"unit='months' is not allowed.*'month'"):
        _seq(episodes(("p", "casual", "2019", "2019")), "months")


def test_a_year_only_start_in_the_interview_year_is_placed_on_until():
    frame = episodes(("p", "casual", "2024", ""))  # 1 July 2024 is after until
    with pytest.warns(DyadlabWarning):
        res = dl.history.sequences(frame, until="2024-03-01")
    assert res.sequences[0].start == "2024-03" and res.sequences[0].states == ["casual"]
    assert any("placed on 2024-03-01, the until day" in w for w in res.warnings)


def test_seasons_are_warned_for_quarters_but_months_are_not():
    frame = episodes(("p", "casual", "2019-01", "2019-03"), ("q", "dating", "2019-01", "2019-02"))
    frame.loc[1, "start_precision"] = "season"  # winter 2018/19: December to February
    with pytest.warns(DyadlabWarning) as caught:
        res = _seq(frame, "quarter")
    assert len(caught) == 1 and "known to the season" in res.warnings[0]
    assert "row 1" in res.warnings[0]


def test_min_certainty_leaves_out_uncertain_episodes_and_says_so():
    frame = episodes(
        ("p", "romantic", "2019-01", "2019-03", "", "", "5"),
        ("p", "casual", "2019-02", "2019-02", "", "", "2"),
        ("q", "online", "2020-01", "2020-01", "", "", "1"),
        ("r", "dating", "2020-05", "2020-05", "", "", ""),  # no certainty: kept
    )
    assert _seq(frame).as_dict()["p"] == ["romantic", "casual+romantic", "romantic"]
    with pytest.warns(DyadlabWarning) as caught:
        res = dl.history.sequences(frame, until=UNTIL, min_certainty=3)
    assert res.as_dict() == {"p": ["romantic"] * 3, "r": ["dating"]}
    assert res.warnings == [
        "2 episodes with a certainty below 3 were left out (rows 1, 2).",
        "1 person ('q') has no episode left and no sequence.",
    ]
    assert len(caught) == 2
    with pytest.raises(dl.DyadlabError, match="min_certainty=6 is out of range"):
        dl.history.sequences(frame, until=UNTIL, min_certainty=6)


def test_min_certainty_on_the_command_line(tmp_path, capsys):
    import json

    from dyadlab.cli import main

    path = tmp_path / "e.csv"
    episodes(
        ("p", "romantic", "2019-01", "2019-03", "", "", "5"),
        ("p", "casual", "2019-02", "2019-02", "", "", "2"),
    ).to_csv(path, index=False)
    argv = ["history", "sequences", str(path), "--until", UNTIL, "--min-certainty", "3"]
    assert main([*argv, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["sequences"][0]["states"] == ["romantic"] * 3
    assert out["warnings"][0].startswith("1 episode with a certainty below 3 was left out")


def test_summary_shows_the_first_persons_and_every_warning():
    frame, truth = dl.history.simulate_episodes(25, rng=2)
    with pytest.warns(DyadlabWarning):
        res = dl.history.sequences(frame, until=truth.until)
    text = res.summary()
    assert text.count(" from ") == 20 and "… and 5 more persons" in text
    assert text.count("warning: ") == len(res.warnings) > 0
