"""Run the simulated couples' study through the platform's real HTTP API.

The researcher logs in, creates the study from the example protocol and invites the
couples; every partner consents and answers the evening questionnaire (and the
``after_sex`` report) day after day — all as HTTP requests to the platform running on
127.0.0.1. The app's clock is moved to each diary evening in turn: answers finished
before 22:00 are sent at 22:00, later ones at 23:59, and answers from an offline phone
arrive after midnight (the platform stores them as ``late``).

The researcher's few requests go through httpx; the participants' thousands of posts
through :class:`dyadlab.demo._http.JsonPool`, a lean keep-alive HTTP/1.1 client, so
that the CPU goes to the server being shown.

One thing is done directly on the database, because the platform has no HTTP route for
it: creating the researcher's account (the service behind ``dyadlab researcher add``).
The invitation names each couple's composition (``roles``: man and woman, or none for
same-sex couples).

Examples
--------
>>> from dyadlab.demo.study import run_study  # doctest: +SKIP
>>> run, app = run_study(plan, database_url="sqlite:///demo.db", workdir=".")  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import secrets
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from dyadlab.demo._http import JsonPool
from dyadlab.demo.server import FileClock, ServerProcess, free_port
from dyadlab.demo.simulate_answers import PROMPT_HOUR, AnswerPlan, Submission, tick_times

__all__ = ["DEMO_EMAIL", "StudyRun", "demo_protocol", "run_study"]

DEMO_EMAIL = "researcher@demo.dyadlab.org"
TZ = "Europe/Amsterdam"
CONCURRENCY = 12
RETRIES = 5

Progress = Callable[[str, int, int], None]


DEMO_ROLES = ["man", "woman"]


def demo_protocol(n_days: int) -> dict[str, Any]:
    """The example protocol (``examples/daily_diary.yaml``) with ``n_days`` diary days
    and the roles ``man`` and ``woman``."""
    source = resources.files("dyadlab") / "examples" / "daily_diary.yaml"
    mapping: dict[str, Any] = yaml.safe_load(source.read_text(encoding="utf-8"))
    mapping.setdefault("dyad", {})["roles"] = list(DEMO_ROLES)
    for entry in mapping.get("schedule", []):
        if entry.get("type") == "daily":
            entry["days"] = int(n_days)
    return mapping


@dataclass
class StudyRun:
    """What happened on the platform.

    Attributes
    ----------
    study_id : int
    start_date : date
        Diary day 1 of every couple.
    end : datetime
        A moment after the last answer window closed (aware UTC).
    tokens : list of (str, str)
        Each couple's two personal tokens (secrets; kept in memory only).
    person_ids : list of (int, int)
        Each couple's two person ids.
    couple_ids : list of int
    status_counts : Counter
        HTTP status codes of the participants' posts (201 new, 200 a retry that was
        stored already; key 0 counts connection failures that were retried).
    requests : int
        HTTP requests sent in all.
    password : str
        The researcher's password (printed once by the demo).
    """

    study_id: int
    start_date: _dt.date
    end: _dt.datetime
    couple_ids: list[int]
    person_ids: list[tuple[int, int]]
    tokens: list[tuple[str, str]] = field(repr=False)
    status_counts: Counter[int]
    requests: int
    password: str = field(repr=False)


def _finished_at(start: _dt.date, s: Submission) -> _dt.datetime:
    from dyadlab.platform.schedule import to_utc

    local = _dt.datetime.combine(start + _dt.timedelta(days=s.day - 1), _dt.time(PROMPT_HOUR))
    return to_utc(local + _dt.timedelta(minutes=s.finished_minutes), TZ)


async def _gather(
    pool: JsonPool, calls: list[tuple[str, str, dict[str, Any], str]], counts: Counter[int]
) -> list[tuple[int, bytes]]:
    """Send (method, path, json, token) calls, as many at once as the pool has connections.

    A call whose connection fails is sent again (the same ``submission_id`` makes that
    safe); ``counts[0]`` counts those resends.
    """

    async def one(method: str, path: str, body: dict[str, Any], token: str) -> tuple[int, bytes]:
        before = pool.retried
        status, content = await pool.request(method, path, body, token=token)
        counts[status] += 1
        counts[0] += pool.retried - before
        return status, content

    return await asyncio.gather(*(one(*c) for c in calls))


def _check_raw(result: tuple[int, bytes], what: str) -> None:
    status, content = result
    if status >= 400:
        text = content.decode(errors="replace")[:300]
        raise RuntimeError(f"demo: {what} failed with HTTP {status}: {text}")


def _check(resp: Any, what: str) -> dict[str, Any]:
    if resp.status_code >= 400:
        raise RuntimeError(f"demo: {what} failed with HTTP {resp.status_code}: {resp.text[:300]}")
    out: dict[str, Any] = resp.json()
    return out


def _invitation_roles(plan: AnswerPlan) -> list[list[str] | None]:
    """Each couple's roles for the invitation: [man, woman], or None (same-sex couples)."""
    out: list[list[str] | None] = []
    for row in plan.couples.itertuples(index=False):
        first, second = row.role_0, row.role_1
        if isinstance(first, str) and isinstance(second, str) and first and second:
            out.append([first, second])
        else:
            out.append(None)
    return out


def _create_researcher(app: Any) -> str:
    from dyadlab.platform.services.researchers import create_researcher

    password = secrets.token_urlsafe(12)
    with app.state.sessionmaker() as session:
        create_researcher(session, DEMO_EMAIL, password, role="owner")
        session.commit()
    return password


async def _drive(
    base_url: str,
    clock: FileClock,
    plan: AnswerPlan,
    start: _dt.date,
    progress: Progress,
    password: str,
) -> StudyRun:
    import httpx

    counts: Counter[int] = Counter()
    requests = 0
    host, port = base_url.removeprefix("http://").rsplit(":", 1)
    async with (
        httpx.AsyncClient(base_url=base_url, timeout=60) as client,
        JsonPool(host, int(port), size=CONCURRENCY, retries=RETRIES) as pool,
    ):
        login = _check(
            await client.post(
                "/api/v1/auth/login", json={"email": DEMO_EMAIL, "password": password}
            ),
            "researcher login",
        )
        auth = {"Authorization": f"Bearer {login['token']}"}
        study = _check(
            await client.post(
                "/api/v1/studies", json={"protocol": demo_protocol(plan.n_days)}, headers=auth
            ),
            "creating the study",
        )
        invite = _check(
            await client.post(
                f"/api/v1/studies/{study['id']}/invitations",
                json={
                    "couples": len(plan.couples),
                    "start_date": start.isoformat(),
                    "tz": TZ,
                    "language": "en",
                    "roles": _invitation_roles(plan),
                },
                headers=auth,
            ),
            "inviting the couples",
        )
        requests += 3
        couple_ids = [c["couple_id"] for c in invite["couples"]]
        tokens = [(c["partners"][0]["token"], c["partners"][1]["token"]) for c in invite["couples"]]
        person_ids = [
            (c["partners"][0]["person_id"], c["partners"][1]["person_id"])
            for c in invite["couples"]
        ]
        progress("setup", 1, 1)

        clock.set(tick_times(start, 1, TZ)[0] - _dt.timedelta(days=1))
        consent = [
            ("POST", "/api/v1/me/consent", {"version": 1}, t) for pair in tokens for t in pair
        ]
        for result in await _gather(pool, consent, counts):
            _check_raw(result, "consent")
        requests += len(consent)
        progress("consent", len(consent), len(consent))

        batches = plan.by_tick()
        done = 0
        for (day, tick), subs in batches.items():
            clock.set(tick_times(start, day, TZ)[tick])
            calls = []
            for s in subs:
                body = {
                    "submission_id": str(uuid.uuid4()),
                    "questionnaire": s.questionnaire,
                    "answers": s.answers,
                    "finished_at": _finished_at(start, s).isoformat(),
                }
                calls.append(("POST", "/api/v1/me/responses", body, tokens[s.couple][s.partner]))
            for result in await _gather(pool, calls, counts):
                _check_raw(result, "an answer")
            requests += len(calls)
            done += len(calls)
            progress("answers", done, len(plan.submissions))
    end = tick_times(start, plan.n_days, TZ)[2] + _dt.timedelta(hours=12)
    clock.set(end)
    return StudyRun(
        study_id=int(study["id"]),
        start_date=start,
        end=end,
        couple_ids=couple_ids,
        person_ids=person_ids,
        tokens=tokens,
        status_counts=counts,
        requests=requests,
        password=password,
    )


def run_study(
    plan: AnswerPlan,
    *,
    database_url: str,
    workdir: str | Path,
    start_date: _dt.date | None = None,
    progress: Progress | None = None,
    workers: int = 2,
) -> tuple[StudyRun, Any]:
    """Migrate ``database_url``, serve the platform on 127.0.0.1 and run the study over HTTP.

    Parameters
    ----------
    plan : AnswerPlan
        From :func:`dyadlab.demo.simulate_answers.simulate_answers`.
    database_url : str
        A fresh SQLite (or PostgreSQL) database.
    workdir : path
        Folder for the clock file.
    start_date : date, optional
        Diary day 1; default so that the study ended yesterday (then the platform,
        served afterwards on the real clock, shows a finished study).
    progress : callable, optional
        Called as ``progress(stage, done, total)``.
    workers : int
        Server worker processes.

    Returns
    -------
    (StudyRun, app)
        ``app`` is the platform app on the same database (not served), for the export.
    """
    from dyadlab.platform.app import create_app
    from dyadlab.platform.settings import Settings

    port = free_port()
    start = start_date or (_dt.date.today() - _dt.timedelta(days=plan.n_days + 1))
    secret = secrets.token_urlsafe(32)
    settings = Settings(
        database_url=database_url, base_url=f"http://127.0.0.1:{port}", secret_key=secret
    )
    clock = FileClock(Path(workdir) / "demo-clock.txt")
    clock.set(_dt.datetime.now(_dt.UTC))
    report = progress or (lambda stage, done, total: None)
    server = ServerProcess(
        database_url=database_url,
        secret_key=secret,
        port=port,
        clock_file=clock.path,
        workers=workers,
    )
    # The workers start (imports) while this process migrates the database; they touch
    # the database only when the first request comes.
    server.launch()
    try:
        app = create_app(settings)
        password = _create_researcher(app)  # argon2: also while the server starts
    except BaseException:
        server.stop()
        raise
    with server:
        report("setup", 0, 1)
        run = asyncio.run(_drive(server.url, clock, plan, start, report, password))
    clock.path.unlink(missing_ok=True)
    return run, app
