"""Continuous ratings: the protocol section, the couple's session, the idempotent sample
upload, the clock alignment of the export, and deletion on withdrawal."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from dyadlab.exceptions import ProtocolError
from dyadlab.platform.protocol import example_protocol, load_protocol, parse_protocol
from dyadlab.platform.services.ratings import clock_fit, ratings_frame
from dyadlab.platform.tables import RatingBatch, RatingSample
from tests.platform.conftest import make_study

RATINGS_PROTOCOL = Path(__file__).resolve().parents[2] / "src/dyadlab/examples/arousal_ratings.yaml"


def _minimal(**rating):
    return {
        "study": "s",
        "languages": ["en", "nl"],
        "questionnaires": [
            {
                "name": "q",
                "items": [{"name": "a", "type": "slider", "label": {"en": "A", "nl": "A"}}],
            }
        ],
        "rating_sessions": [{"name": "arousal", "label": {"en": "A?", "nl": "O?"}, **rating}],
    }


# --------------------------------------------------------------------------- protocol
def test_protocol_reads_the_contract_section():
    p = load_protocol(RATINGS_PROTOCOL)
    r = p.rating_session("arousal")
    assert (r.min, r.max, r.rate_hz, r.max_minutes) == (0, 100, 10, 30)
    assert r.label["nl"] == "Hoe seksueel opgewonden voel je je nu?"
    assert r.anchors["max"]["en"] == "Extremely"
    assert parse_protocol(p.to_dict()) == p


def test_protocol_defaults_and_unchanged_hash_without_ratings():
    r = parse_protocol(_minimal()).rating_session("arousal")
    assert (r.min, r.max, r.rate_hz, r.max_minutes, r.orientation) == (
        0,
        100,
        10,
        30,
        "vertical",
    )
    p = example_protocol()
    assert "rating_sessions" not in p.to_dict()  # older protocols keep their content hash


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"rate_hz": 0}, "rating_sessions[0].rate_hz: must be between 1 and 50"),
        ({"min": 10, "max": 5}, "rating_sessions[0].max: must be larger than min (10)"),
        ({"max_minutes": 1000}, "rating_sessions[0].max_minutes: must be at most 240"),
        ({"rate_hzz": 5}, "unknown key 'rate_hzz'; did you mean 'rate_hz'?"),
        ({"orientation": "diagonal"}, "must be vertical or horizontal"),
        ({"label": {"en": "only English"}}, "missing label in declared language 'nl'"),
        ({"name": "q"}, "duplicate name 'q'"),
        (
            {
                "stimulus": {
                    "chapters": [{"label": "a", "start_s": 10}, {"label": "b", "start_s": 5}]
                }
            },
            "stimulus.chapters[1].start_s: must be later than the chapter before it (10 s)",
        ),
        (
            {"stimulus": {"chapters": [{"label": "a", "start_s": 1800}]}},
            "start_s: must be between 0 and the session's 1800 seconds (max_minutes 30)",
        ),
        ({"stimulus": {"chapter": []}}, "unknown key 'chapter'; did you mean 'chapters'?"),
        ({"stimulus": {"chapters": [{"start_s": 1}]}}, "chapters[0].label: is missing"),
        ({"stimulus": {"chapters": [{"label": "a"}]}}, "chapters[0].start_s: is missing"),
    ],
)
def test_protocol_names_what_is_wrong(change, message):
    with pytest.raises(ProtocolError, match=re.escape(message)):
        parse_protocol(_minimal(**change))


def test_protocol_reads_stimulus_chapters_and_keeps_older_hashes():
    chapters = [{"label": "neutral", "start_s": 0}, {"label": "erotic", "start_s": 60.5}]
    p = parse_protocol(_minimal(stimulus={"chapters": chapters}))
    got = p.rating_session("arousal").stimulus
    assert got is not None
    assert [(c.label, c.start_s) for c in got.chapters] == [("neutral", 0.0), ("erotic", 60.5)]
    assert p.to_dict()["rating_sessions"][0]["stimulus"] == {"chapters": chapters}
    assert parse_protocol(p.to_dict()) == p
    without = parse_protocol(_minimal())
    assert "stimulus" not in without.to_dict()["rating_sessions"][0]  # its hash is unchanged
    assert p.content_hash != without.content_hash


def test_unknown_rating_session_suggests_the_name():
    with pytest.raises(ProtocolError, match="Did you mean 'arousal'"):
        load_protocol(RATINGS_PROTOCOL).rating_session("arousl")


# --------------------------------------------------------------------------- the API
@pytest.fixture
def pair(db, client):
    """One couple of the ratings study, both partners consented."""
    made = make_study(db, RATINGS_PROTOCOL, couples=2)
    for couple in made:
        for i in (0, 1):
            r = client.post("/api/v1/me/consent", json={"version": 1}, headers=couple.headers(i))
            assert r.status_code == 200, r.text
    return made


def _batch(samples, *, offset=0.0, at=0.0, batch_id=None):
    return {
        "batch_id": str(batch_id or uuid.uuid4()),
        "samples": samples,
        "clock": {"offset_ms": offset, "rtt_ms": 12.0, "at_ms": at},
    }


def test_either_partner_starts_and_the_other_joins(client, pair):
    a, b = pair[0].headers(0), pair[0].headers(1)
    first = client.post("/api/v1/me/rating-sessions", json={"rating": "arousal"}, headers=b)
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["running"] is True and body["rate_hz"] == 10 and body["max"] == 100
    again = client.post("/api/v1/me/rating-sessions", json={"rating": "arousal"}, headers=a)
    assert again.status_code == 200
    assert again.json()["session_id"] == body["session_id"]
    other = client.post(
        "/api/v1/me/rating-sessions", json={"rating": "arousal"}, headers=pair[1].headers(0)
    )
    assert other.status_code == 201 and other.json()["session_id"] != body["session_id"]


def test_a_stopped_or_timed_out_session_is_not_joined(client, pair, clock):
    a, b = pair[0].headers(0), pair[0].headers(1)
    sid = client.post("/api/v1/me/rating-sessions", json={"rating": "arousal"}, headers=a).json()[
        "session_id"
    ]
    stopped = client.post(f"/api/v1/me/rating-sessions/{sid}/stop", headers=b)
    assert stopped.status_code == 200 and stopped.json()["running"] is False
    assert client.get(f"/api/v1/me/rating-sessions/{sid}", headers=a).json()["running"] is False
    new = client.post("/api/v1/me/rating-sessions", json={"rating": "arousal"}, headers=a)
    assert new.status_code == 201 and new.json()["session_id"] != sid
    clock.advance(minutes=31)  # max_minutes is 30
    assert client.get(f"/api/v1/me/rating-sessions/{sid}", headers=a).json()["running"] is False
    later = client.post("/api/v1/me/rating-sessions", json={"rating": "arousal"}, headers=b)
    assert later.status_code == 201


def test_samples_are_stored_once(client, pair, db):
    a = pair[0].headers(0)
    sid = client.post("/api/v1/me/rating-sessions", json={"rating": "arousal"}, headers=a).json()[
        "session_id"
    ]
    batch = _batch([[1000.0, 0], [1100.0, 12.5], [1200.0, 100]])
    url = f"/api/v1/me/rating-sessions/{sid}/samples"
    first = client.post(url, json=batch, headers=a)
    assert first.status_code == 201, first.text
    assert first.json() == {"batch_id": batch["batch_id"], "stored": 3, "running": True}
    again = client.post(url, json=batch, headers=a)
    assert again.status_code == 200 and again.json()["stored"] == 3
    assert db.scalar(select(func.count(RatingSample.id))) == 3
    assert db.scalar(select(func.count(RatingBatch.id))) == 1


@pytest.mark.parametrize(
    ("samples", "status", "needle"),
    [
        ([[1000.0, 100.5]], 422, "samples[0]: value 100.5 is outside the rating's range 0 to 100"),
        ([[1000.0, 5], [1100.0, -1]], 422, "samples[1]: value -1"),
        ([[1000.0]], 422, "samples"),
        ([["x", 5]], 422, "samples"),
    ],
)
def test_bad_samples_are_refused_with_a_reason(client, pair, db, samples, status, needle):
    a = pair[0].headers(0)
    sid = client.post("/api/v1/me/rating-sessions", json={"rating": "arousal"}, headers=a).json()[
        "session_id"
    ]
    r = client.post(f"/api/v1/me/rating-sessions/{sid}/samples", json=_batch(samples), headers=a)
    assert r.status_code == status
    assert needle in r.json()["error"]["message"]
    assert db.scalar(select(func.count(RatingSample.id))) == 0


def test_nan_sample_is_refused(client, pair):
    a = pair[0].headers(0)
    sid = client.post("/api/v1/me/rating-sessions", json={"rating": "arousal"}, headers=a).json()[
        "session_id"
    ]
    raw = (
        '{"batch_id": "%s", "samples": [[1, NaN]], '
        '"clock": {"offset_ms": 0, "rtt_ms": 1, "at_ms": 0}}'
    )
    r = client.post(
        f"/api/v1/me/rating-sessions/{sid}/samples",
        content=raw % uuid.uuid4(),
        headers={**a, "content-type": "application/json"},
    )
    assert r.status_code == 422


def test_unknown_rating_and_missing_consent(client, db, pair):
    a = pair[0].headers(0)
    r = client.post("/api/v1/me/rating-sessions", json={"rating": "arousl"}, headers=a)
    assert r.status_code == 422 and r.json()["error"]["code"] == "unknown_rating"
    assert "arousal" in r.json()["error"]["message"]
    fresh = make_study(db, RATINGS_PROTOCOL)[0]
    r = client.post(
        "/api/v1/me/rating-sessions", json={"rating": "arousal"}, headers=fresh.headers(0)
    )
    assert r.status_code == 403


def test_the_clock_answers_the_servers_time(client, pair, clock):
    r = client.get("/api/v1/me/clock", headers=pair[0].headers(0))
    assert r.status_code == 200
    assert r.json()["server_ms"] == clock.now.timestamp() * 1000
    assert client.get("/api/v1/me/clock").status_code == 401


# --------------------------------------------------------------------------- export
def test_clock_fit_offset_and_drift():
    # a phone 90 s behind whose clock runs 50 ppm slow: after 10 minutes 30 ms more behind
    offset, drift, at = clock_fit([(600_000.0, 90_030.0), (0.0, 90_000.0)])
    assert (offset, at) == (90_000.0, 0.0)
    assert drift == pytest.approx(50.0)
    assert clock_fit([(0.0, 7.0), (30_000.0, 9.0)])[1] == 0.0  # too short for a drift


def test_export_aligns_each_phone_to_the_server(client, pair, db, clock):
    """Two phones with known clock errors rate a known trace: the export puts every
    sample at its true server time (to the rounding of 0.1 ms)."""
    a, b = pair[0].headers(0), pair[0].headers(1)
    start = clock.now.timestamp() * 1000
    sid = client.post("/api/v1/me/rating-sessions", json={"rating": "arousal"}, headers=a).json()[
        "session_id"
    ]
    client.post("/api/v1/me/rating-sessions", json={"rating": "arousal"}, headers=b)
    phones = {0: (-90_000.0, 0.0), 1: (2_500.0, 40.0)}  # device - server at start; drift ppm
    true_t = [100.0 * k for k in range(6000)]  # ten minutes at 10 Hz after the start
    for which, (lag, ppm) in phones.items():
        device = [start + t + lag - ppm * 1e-6 * t for t in true_t]
        values = [float(k % 101) if which == 0 else float(100 - k % 101) for k in range(6000)]
        # offset estimates at start and at the end, as the phone makes them
        first = {"offset_ms": -lag, "rtt_ms": 10.0, "at_ms": device[0]}
        last = {"offset_ms": -(lag - ppm * 1e-6 * true_t[-1]), "rtt_ms": 9.0, "at_ms": device[-1]}
        for j in range(0, 6000, 20):
            clock_info = last if j + 20 >= 6000 else first
            body = {
                "batch_id": str(uuid.uuid4()),
                "samples": [[device[k], values[k]] for k in range(j, j + 20)],
                "clock": clock_info,
            }
            r = client.post(
                f"/api/v1/me/rating-sessions/{sid}/samples",
                json=body,
                headers=pair[0].headers(which),
            )
            assert r.status_code == 201, r.text
    frame = ratings_frame(db, pair[0].study_id)
    assert list(frame.columns[:7]) == [
        "dyad",
        "person",
        "role",
        "session",
        "rating",
        "t_ms",
        "value",
    ]
    assert len(frame) == 12000
    for which, (_lag, ppm) in phones.items():
        own = frame[frame["person"] == pair[0].person_ids[which]]
        assert own["t_ms"].to_numpy() == pytest.approx(true_t, abs=0.11)
        assert own["clock_drift_ppm"].iloc[0] == pytest.approx(ppm, abs=0.01)
        assert set(own["role"]) == {"partner_a" if which == 0 else "partner_b"}
    assert set(frame["rating"]) == {"arousal"} and set(frame["session"]) == {sid}


def test_withdrawal_with_deletion_deletes_the_samples(client, pair, db):
    a, b = pair[0].headers(0), pair[0].headers(1)
    sid = client.post("/api/v1/me/rating-sessions", json={"rating": "arousal"}, headers=a).json()[
        "session_id"
    ]
    for h in (a, b):
        r = client.post(
            f"/api/v1/me/rating-sessions/{sid}/samples", json=_batch([[1.0, 5]]), headers=h
        )
        assert r.status_code == 201
    frame = ratings_frame(db, pair[0].study_id)
    assert not frame["withdrawn"].any()
    client.post("/api/v1/me/withdraw", json={"delete_data": False}, headers=b)
    frame = ratings_frame(db, pair[0].study_id)
    assert frame.groupby("person")["withdrawn"].first().to_dict() == {
        pair[0].person_ids[0]: False,
        pair[0].person_ids[1]: True,  # left, without deletion: the samples stay, flagged
    }
    client.post("/api/v1/me/withdraw", json={"delete_data": True}, headers=a)
    left = db.scalars(select(RatingSample.person_id)).all()
    assert left == [pair[0].person_ids[1]]
    assert db.scalar(select(func.count(RatingBatch.id))) == 1


def test_cli_exports_the_ratings_in_long_format(
    client, pair, database_url, monkeypatch, capsys, tmp_path, clock
):
    import json

    import pandas as pd

    from dyadlab.cli import main

    a, b = pair[0].headers(0), pair[0].headers(1)
    sid = client.post("/api/v1/me/rating-sessions", json={"rating": "arousal"}, headers=a).json()[
        "session_id"
    ]
    for h, value in ((a, 10), (b, 80)):
        body = _batch([[1000.0, value], [1100.0, value + 1]], offset=5.0, at=1000.0)
        assert (
            client.post(
                f"/api/v1/me/rating-sessions/{sid}/samples", json=body, headers=h
            ).status_code
            == 201
        )
    client.post(f"/api/v1/me/rating-sessions/{sid}/stop", headers=b)
    monkeypatch.setenv("DYADLAB_DATABASE_URL", database_url)
    target = tmp_path / "ratings.csv"
    code = main(["export", str(pair[0].study_id), "--ratings", "--out", str(target), "--json"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert json.loads(out)["n_rows"] == 4 and json.loads(out)["n_sessions"] == 1
    df = pd.read_csv(target)
    assert list(df.columns[:7]) == ["dyad", "person", "role", "session", "rating", "t_ms", "value"]
    assert {"clock_offset_ms", "clock_drift_ppm"} <= set(df.columns)
    assert sorted(df["value"]) == [10, 11, 80, 81]
    assert set(df["clock_offset_ms"]) == {5.0}
    markers = pd.read_csv(tmp_path / "ratings_markers.csv")
    assert list(markers["kind"]) == ["start", "stop"]
    assert list(markers["source"]) == ["partner", "partner"]
    # dl.physio reads the export as one signal per person, on the server's clock
    import dyadlab as dl

    recs = dl.physio.read_ratings(target)
    assert sorted(recs) == [(sid, p) for p in sorted(pair[0].person_ids)]
    rec = recs[(sid, pair[0].person_ids[1])]
    assert rec.channels == ["arousal"] and rec.clock == "server"
    assert rec.signal("arousal").tolist() == [80.0, 81.0]
    assert rec.rate("arousal") == pytest.approx(10.0)
    assert rec.info["role"] == "partner_b" and rec.info["clock_offset_ms"] == 5.0
    assert list(rec.events["label"]) == ["start", "stop"]
    expected_s = (1000.0 + 5.0 - clock.now.timestamp() * 1000) / 1000  # device ms + offset
    assert rec.time("arousal")[0] == pytest.approx(expected_s, abs=1e-4)
    code = main(["export", str(pair[0].study_id), "--ratings", "--out", str(tmp_path / "r.sav")])
    err = capsys.readouterr().err
    assert code != 0 and ".csv or .parquet" in err and "Traceback" not in err


# --------------------------------------------------------------------------- researchers
def test_researcher_pages_show_both_traces_to_members_only(client, pair, db):
    from tests.platform.conftest import ANALYST, OWNER, add_member
    from tests.platform.test_pages_researcher import _login
    from tests.platform.test_privacy import OTHER, _other_researcher, _unnamed

    a, b = pair[0].headers(0), pair[0].headers(1)
    sid = client.post("/api/v1/me/rating-sessions", json={"rating": "arousal"}, headers=a).json()[
        "session_id"
    ]
    for h, values in ((a, [10, 20, 30]), (b, [90, 80, 70])):
        samples = [[1000.0 + 100 * k, v] for k, v in enumerate(values)]
        body = _batch(samples, offset=0.0, at=1000.0)
        r = client.post(f"/api/v1/me/rating-sessions/{sid}/samples", json=body, headers=h)
        assert r.status_code == 201
    client.post(f"/api/v1/me/rating-sessions/{sid}/stop", headers=a)
    study = pair[0].study_id

    _login(client, db, OWNER)
    listing = client.get(f"/r/studies/{study}/ratings")
    assert listing.status_code == 200
    assert f'href="/r/studies/{study}/ratings/{sid}"' in listing.text
    assert f"person {pair[0].person_ids[0]}: 3" in listing.text
    page = client.get(f"/r/studies/{study}/ratings/{sid}")
    assert page.status_code == 200
    assert page.text.count("<polyline") == 2 and "partner_a" in page.text
    assert "stop at" in page.text
    assert f'href="/r/studies/{study}/ratings"' in client.get(f"/r/studies/{study}").text
    other_couples = client.get(f"/r/studies/{study}/ratings/{10**6}")
    assert other_couples.status_code == 404
    download = client.get(f"/r/studies/{study}/ratings/export")
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/zip"
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(download.content)) as archive:
        assert sorted(archive.namelist()) == ["ratings.csv", "ratings_markers.csv"]
        assert archive.read("ratings.csv").decode().count("\n") == 7  # header + 6 samples
    from dyadlab.platform.tables import AuditLog

    actions = db.scalars(select(AuditLog.action).where(AuditLog.study_id == study)).all()
    assert "view_ratings" in actions and "export" in actions

    client.cookies.clear()
    monitor = ("monitor@lab.example", "a monitor passphrase")
    add_member(db, study, monitor, "monitor")
    _login(client, db, monitor, role="analyst")
    assert client.get(f"/r/studies/{study}/ratings/{sid}").status_code == 403
    client.cookies.clear()
    add_member(db, study, ANALYST, "analyst")
    _login(client, db, ANALYST, role="analyst")
    assert client.get(f"/r/studies/{study}/ratings/{sid}").status_code == 200

    # another researcher (owner of a study of their own): the answer of a missing study
    client.cookies.clear()
    _other_researcher(client, db, RATINGS_PROTOCOL)
    _login(client, db, OTHER)
    for path in (
        "/r/studies/{}/ratings",
        "/r/studies/{}/ratings/" + str(sid),
        "/r/studies/{}/ratings/export",
    ):
        got = client.get(path.format(study))
        missing = client.get(path.format(10**6))
        assert got.status_code == missing.status_code == 404
        assert _unnamed(got.text, study) == _unnamed(missing.text, 10**6)
        assert "polyline" not in got.text


def test_protocol_check_lists_the_rating_session_and_xlsform_refuses_it(tmp_path, capsys):
    from dyadlab.cli import main
    from dyadlab.platform.protocol import write_xlsform

    assert main(["protocol", "check", str(RATINGS_PROTOCOL)]) == 0
    assert "rating session arousal: 0 to 100 at 10 Hz, up to 30 min" in capsys.readouterr().out
    with pytest.raises(ProtocolError, match="rating_sessions"):
        write_xlsform(load_protocol(RATINGS_PROTOCOL), tmp_path / "p.xlsx")
    assert not (tmp_path / "p.xlsx").exists()
    code = main(["protocol", "convert", str(RATINGS_PROTOCOL), "--out", str(tmp_path / "p.xlsx")])
    err = capsys.readouterr().err
    assert code != 0 and "keep the protocol in YAML" in err and "Traceback" not in err


def test_researcher_routes_start_and_mark(client, pair, db, clock):
    """The researcher starts a couple's session and marks a stimulus; the partners join
    it; another researcher gets the answer of a missing study on both routes; a monitor
    may not; the marker is in the export."""
    from tests.platform.conftest import OWNER, add_member, login
    from tests.platform.test_privacy import OTHER, _other_researcher, _unnamed

    study, couple = pair[0].study_id, pair[0].couple_id
    owner = login(client, db, OWNER)
    start_url = f"/api/v1/studies/{study}/couples/{couple}/rating-sessions"
    r = client.post(start_url, json={"rating": "arousal"}, headers=owner)
    assert r.status_code == 201, r.text
    sid = r.json()["session_id"]
    assert client.post(start_url, json={"rating": "arousal"}, headers=owner).status_code == 200
    joined = client.post(
        "/api/v1/me/rating-sessions", json={"rating": "arousal"}, headers=pair[0].headers(1)
    )
    assert joined.status_code == 200 and joined.json()["session_id"] == sid
    other_couple = f"/api/v1/studies/{study}/couples/{pair[1].couple_id + 100}/rating-sessions"
    assert client.post(other_couple, json={"rating": "arousal"}, headers=owner).status_code == 404
    bad = client.post(start_url, json={"rating": "arousl"}, headers=owner)
    assert bad.status_code == 422 and "arousal" in bad.json()["error"]["message"]

    clock.advance(seconds=90)
    mark_url = f"/api/v1/studies/{study}/rating-sessions/{sid}/markers"
    r = client.post(mark_url, json={"kind": "stimulus", "label": "film, part 2"}, headers=owner)
    assert r.status_code == 201 and r.json()["t_ms"] == 90_000.0
    bodies = {
        start_url: {"rating": "arousal"},
        mark_url: {"kind": "stimulus", "label": "x"},
    }

    monitor = ("monitor@lab.example", "a monitor passphrase")
    add_member(db, study, monitor, "monitor")
    as_monitor = login(client, db, monitor, role="analyst")
    for url, body in bodies.items():
        refused = client.post(url, json=body, headers=as_monitor)
        assert refused.status_code == 403
        message = refused.json()["error"]["message"]
        assert message.endswith("(monitor) does not allow you to run this study's rating sessions.")

    _other_researcher(client, db, RATINGS_PROTOCOL)
    other = login(client, db, OTHER)
    for url, body in bodies.items():
        got = client.post(url, json=body, headers=other)
        missing = client.post(
            url.replace(f"/studies/{study}/", "/studies/1000000/"), json=body, headers=other
        )
        assert got.status_code == missing.status_code == 404
        assert _unnamed(got.text, study) == _unnamed(missing.text, 10**6)

    r = client.post(mark_url, json={"kind": "stop"}, headers=owner)
    assert r.status_code == 201
    state = client.get(f"/api/v1/me/rating-sessions/{sid}", headers=pair[0].headers(0)).json()
    assert state["running"] is False
    assert client.post(mark_url, json={"kind": "stimulus"}, headers=owner).status_code == 409
    markers = ratings_markers(db, study, clock)
    assert list(
        zip(markers["kind"], markers["source"], markers["label"].fillna(""), strict=True)
    ) == [
        ("start", "researcher", ""),
        ("stimulus", "researcher", "film, part 2"),
        ("stop", "researcher", ""),
    ]


def ratings_markers(db, study, clock):
    from dyadlab.platform.services.ratings import markers_frame

    return markers_frame(db, study, now=clock.now)


def test_a_timed_out_session_gets_its_stop_marker(client, pair, db, clock):
    a = pair[0].headers(0)
    client.post("/api/v1/me/rating-sessions", json={"rating": "arousal"}, headers=a)
    assert list(ratings_markers(db, pair[0].study_id, clock)["kind"]) == ["start"]
    clock.advance(minutes=30)
    markers = ratings_markers(db, pair[0].study_id, clock)
    assert list(zip(markers["kind"], markers["source"], markers["t_ms"], strict=True)) == [
        ("start", "partner", 0.0),
        ("stop", "timeout", 1_800_000.0),
    ]


def test_partners_starting_at_the_same_moment_get_one_session(app, pair, database_url):
    """Both partners press Start at once, eight times over: one session each time. On
    PostgreSQL the couple's row lock serialises the two; on SQLite the loser may be told
    the database is busy (503, the page tries again) but never gets a second session."""
    import threading
    from datetime import UTC, datetime, timedelta

    from sqlalchemy.exc import OperationalError

    from dyadlab.platform.services.participants import person_by_token
    from dyadlab.platform.services.ratings import start_session, stop_session
    from dyadlab.platform.tables import CoupleRatingSession

    tokens = pair[0].tokens
    base = datetime(2026, 3, 3, 19, 30, tzinfo=UTC)
    for round_ in range(8):
        now = base + timedelta(hours=round_)
        barrier = threading.Barrier(2)
        got: list[object] = []

        def press(token, barrier=barrier, now=now, got=got):
            with app.state.sessionmaker() as db:
                person = person_by_token(db, token)
                barrier.wait()
                try:
                    row, _created = start_session(db, person, "arousal", now=now)
                    db.commit()
                    got.append(row.id)
                except OperationalError as exc:
                    got.append(exc)

        threads = [threading.Thread(target=press, args=(t,)) for t in tokens]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        ids = {g for g in got if isinstance(g, int)}
        assert len(ids) == 1, got
        if database_url.startswith("postgresql"):
            assert len(got) == 2 and all(isinstance(g, int) for g in got)
        with app.state.sessionmaker() as db:
            rows = db.scalars(
                select(CoupleRatingSession).where(CoupleRatingSession.started_utc == now)
            ).all()
            assert len(rows) == 1
            stop_session(db, person_by_token(db, tokens[0]), rows[0].id, now=now)
            db.commit()


def test_researcher_forms_start_mark_and_stop(client, pair, db, clock):
    import re as _re

    from tests.platform.conftest import OWNER, add_member
    from tests.platform.test_pages_researcher import _login

    study, couple = pair[0].study_id, pair[0].couple_id
    _login(client, db, OWNER)
    page = client.get(f"/r/studies/{study}/ratings").text
    csrf = _re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    r = client.post(
        f"/r/studies/{study}/ratings/start",
        data={"csrf": csrf, "couple": str(couple), "rating": "arousal"},
    )
    assert r.status_code == 200 and "started" in r.text
    sid = int(_re.search(r"Session (\d+) \(arousal\)", r.text).group(1))
    assert "Mark stimulus" in r.text
    for couple_text, needle in (("abc", "not a couple"), ("999999", "has no couple 999999")):
        bad = client.post(
            f"/r/studies/{study}/ratings/start",
            data={"csrf": csrf, "couple": couple_text, "rating": "arousal"},
        )
        assert bad.status_code == 422 and needle in bad.text
    clock.advance(seconds=12)
    url = f"/r/studies/{study}/ratings/{sid}/markers"
    r = client.post(url, data={"csrf": csrf, "kind": "stimulus", "label": "film"})
    assert r.status_code == 200 and "Marked stimulus" in r.text and "12.0 s" in r.text
    assert client.post(url, data={"csrf": "wrong", "kind": "stop"}).status_code == 403
    r = client.post(url, data={"csrf": csrf, "kind": "stop"})
    assert r.status_code == 200 and "Mark stimulus" not in r.text
    again = client.post(url, data={"csrf": csrf, "kind": "stop"})
    assert again.status_code == 422 and "has ended" in again.text
    markers = ratings_markers(db, study, clock)
    assert list(markers["kind"]) == ["start", "stimulus", "stop"]

    client.cookies.clear()
    analyst = ("analyst2@lab.example", "an analyst passphrase")
    add_member(db, study, analyst, "analyst")
    _login(client, db, analyst, role="analyst")
    page = client.get(f"/r/studies/{study}/ratings").text
    assert "Start a couple" not in page  # the analyst may look, not run
    csrf = _re.search(r'name="csrf" value="([^"]+)"', client.get("/r/studies").text).group(1)
    r = client.post(
        f"/r/studies/{study}/ratings/start",
        data={"csrf": csrf, "couple": str(couple), "rating": "arousal"},
    )
    assert r.status_code == 403 and "run this study&#39;s rating sessions" in r.text


def test_stimulus_chapters_become_markers_when_the_researcher_starts(
    client, db, clock, tmp_path, capsys
):
    """A partner starts; 10 s later the researcher presses start (the video starts): each
    chapter is a stimulus marker at that press plus its start_s, on the server's clock,
    once; a chapter shows once its time has come, and not after the session's stop."""
    import yaml

    from tests.platform.conftest import OWNER, login, make_study

    raw = yaml.safe_load(RATINGS_PROTOCOL.read_text(encoding="utf-8"))
    raw["rating_sessions"][0]["stimulus"] = {
        "chapters": [
            {"label": "neutral", "start_s": 0},
            {"label": "erotic", "start_s": 60},
            {"label": "credits", "start_s": 1000},
        ]
    }
    path = tmp_path / "chapters.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    from dyadlab.cli import main

    assert main(["protocol", "check", str(path)]) == 0
    assert "up to 30 min, 3 stimulus chapters" in capsys.readouterr().out
    (couple,) = make_study(db, path)
    study = couple.study_id
    r = client.post("/api/v1/me/consent", json={"version": 1}, headers=couple.headers(0))
    assert r.status_code == 200
    started = client.post(
        "/api/v1/me/rating-sessions", json={"rating": "arousal"}, headers=couple.headers(0)
    )
    assert started.status_code == 201
    assert list(ratings_markers(db, study, clock)["kind"]) == ["start"]  # no chapters yet

    clock.advance(seconds=10)
    owner = login(client, db, OWNER)
    url = f"/api/v1/studies/{study}/couples/{couple.couple_id}/rating-sessions"
    for _ in range(2):  # pressed twice: the chapters once
        r = client.post(url, json={"rating": "arousal"}, headers=owner)
        assert r.status_code == 200 and r.json()["session_id"] == started.json()["session_id"]
    got = ratings_markers(db, study, clock)
    assert list(zip(got["label"].fillna(""), got["source"], got["t_ms"], strict=True)) == [
        ("", "partner", 0.0),
        ("neutral", "chapters", 10_000.0),
    ]
    clock.advance(seconds=70)  # 80 s since the start: the second chapter has played
    assert list(ratings_markers(db, study, clock)["t_ms"]) == [0.0, 10_000.0, 70_000.0]
    sid = started.json()["session_id"]
    mark = f"/api/v1/studies/{study}/rating-sessions/{sid}/markers"
    assert client.post(mark, json={"kind": "stop"}, headers=owner).status_code == 201
    clock.advance(seconds=2_000)  # the third chapter's time has passed, after the stop
    got = ratings_markers(db, study, clock)
    assert list(zip(got["kind"], got["label"].fillna(""), strict=True)) == [
        ("start", ""),
        ("stimulus", "neutral"),
        ("stimulus", "erotic"),
        ("stop", ""),
    ]
    assert list(got["t_ms"]) == [0.0, 10_000.0, 70_000.0, 80_000.0]
