"""Runs of a study's analysis plan started from the researcher's "Analyses" page.

:func:`start_run` stores a queued :class:`~dyadlab.platform.tables.AnalysisRun` and
writes the audit row (action ``analyse``, like an export); :func:`launch` runs it in a
background thread of the server process (:func:`execute_run`: the same
:func:`~dyadlab.platform.services.analyses.analyse_study` as ``dyadlab study analyse``),
which writes its progress — the export, then each model — to the row, and at the end the
HTML report or the reason it failed. Since the state is in the database, the page shows
it after a reload and from any server process. One run at a time per process (the
figures are drawn with matplotlib, which is not thread-safe); others wait as
``queued``. A run that made no progress for :data:`STALE_AFTER` (its server stopped) is
shown as failed.

Examples
--------
>>> run = start_run(session, study, researcher_id=1, client="127.0.0.1")  # doctest: +SKIP
>>> session.commit(); launch(app.state.sessionmaker, run.id, now)  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import tempfile
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dyadlab.exceptions import DyadlabError
from dyadlab.platform.errors import NotFoundError
from dyadlab.platform.services.researchers import audit
from dyadlab.platform.tables import AnalysisRun, Study, utcnow

__all__ = [
    "STALE_AFTER",
    "execute_run",
    "get_run",
    "launch",
    "list_runs",
    "run_state",
    "start_run",
]

#: A queued or running run without progress for this long is shown as failed.
STALE_AFTER = timedelta(minutes=30)
_ONE_AT_A_TIME = threading.Lock()
_log = logging.getLogger(__name__)


def start_run(
    session: Session, study: Study, *, researcher_id: int | None, client: str | None = None
) -> AnalysisRun:
    """Store a queued run of ``study``'s plan and audit-log it (the caller commits).

    Raises
    ------
    DyadlabError
        The study's protocol has no analysis plan, or a run of it is still going (a
        second click would only queue the same work).
    """
    from dyadlab.platform.services.studies import study_protocol

    protocol = study_protocol(study)
    if not protocol.analysis:
        raise DyadlabError(
            f"Study {study.id}'s protocol has no analysis plan: the plan is the protocol's "
            "'analysis' section, fixed when the study is created."
        )
    now = utcnow()
    for earlier in list_runs(session, study.id, limit=5):
        if run_state(earlier, now)["status"] in ("queued", "running"):
            raise DyadlabError(
                f"Run {earlier.id} of this plan is still going; its report will be here "
                "when it is done."
            )
    run = AnalysisRun(
        study_id=study.id,
        researcher_id=researcher_id,
        status="queued",
        done=0,
        total=len(protocol.analysis) + 1,
        step="waiting",
        protocol_hash=study.protocol_hash,
        created_at=now,
        updated_at=now,
    )
    session.add(run)
    session.flush()
    audit(
        session,
        "analyse",
        researcher_id=researcher_id,
        study_id=study.id,
        client=client,
        detail={"run": run.id, "models": len(protocol.analysis), "format": "html"},
    )
    return run


def _update(sessionmaker: Callable[[], Session], run_id: int, **values: Any) -> None:
    with sessionmaker() as session:
        run = session.get(AnalysisRun, run_id)
        if run is None:  # the study was deleted meanwhile
            return
        for key, value in values.items():
            setattr(run, key, value)
        run.updated_at = utcnow()
        session.commit()


def execute_run(sessionmaker: Callable[[], Session], run_id: int, now: datetime) -> None:
    """Run the plan of run ``run_id`` and store the report (or why it failed)."""
    from dyadlab.platform.services.analyses import analyse_study

    with _ONE_AT_A_TIME:
        with sessionmaker() as session:
            run = session.get(AnalysisRun, run_id)
            if run is None:
                return
            study_id = run.study_id
        _update(sessionmaker, run_id, status="running", step="export")

        def progress(done: int, total: int, what: str) -> None:
            _update(sessionmaker, run_id, done=done, total=total, step=what[:200])

        try:
            with tempfile.TemporaryDirectory(prefix="dyadlab-run-") as tmp:
                out = Path(tmp) / f"study{study_id}_analyses.html"
                with sessionmaker() as session:
                    result = analyse_study(
                        session,
                        study_id,
                        out=out,
                        now=now,
                        call=f"Analyses page of study {study_id}, run {run_id}",
                        progress=progress,
                    )
                report = result.report.read_bytes()
        except DyadlabError as exc:
            _update(
                sessionmaker,
                run_id,
                status="failed",
                message=str(exc),
                finished_at=utcnow(),
            )
            return
        except Exception:  # a bug must not leave the run "running" for ever
            _log.exception("analysis run %s failed", run_id)
            _update(
                sessionmaker,
                run_id,
                status="failed",
                message="The analyses stopped on an internal error; the server log has the "
                "details. Please report it.",
                finished_at=utcnow(),
            )
            return
        _update(
            sessionmaker,
            run_id,
            status="done",
            step="report written",
            done=len(result.models) + 1,
            total=len(result.models) + 1,
            report=report,
            finished_at=utcnow(),
        )


def launch(sessionmaker: Callable[[], Session], run_id: int, now: datetime) -> threading.Thread:
    """Start :func:`execute_run` in a background thread and return the thread."""
    thread = threading.Thread(
        target=execute_run,
        args=(sessionmaker, run_id, now),
        name=f"dyadlab-analysis-{run_id}",
        daemon=True,
    )
    thread.start()
    return thread


def list_runs(session: Session, study_id: int, *, limit: int = 10) -> list[AnalysisRun]:
    """The study's latest runs, newest first."""
    query = (
        select(AnalysisRun)
        .where(AnalysisRun.study_id == study_id)
        .order_by(AnalysisRun.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def get_run(session: Session, study_id: int, run_id: int) -> AnalysisRun:
    """Run ``run_id`` of study ``study_id``; :class:`NotFoundError` for a run that does
    not exist or belongs to another study (one answer for both)."""
    run = session.get(AnalysisRun, run_id)
    if run is None or run.study_id != study_id:
        raise NotFoundError(f"Study {study_id} has no analysis run {run_id}.")
    return run


def run_state(run: AnalysisRun, now: datetime | None = None) -> dict[str, Any]:
    """The run as JSON for the page: ``id, status, done, total, percent, step, message,
    created_at, finished_at, has_report`` (a stale run is ``failed``)."""
    status, message = run.status, run.message
    if status in ("queued", "running") and (now or utcnow()) - run.updated_at > STALE_AFTER:
        status = "failed"
        message = "The run stopped without finishing (the server was restarted?); start it again."
    total = max(run.total, 1)
    return {
        "id": run.id,
        "status": status,
        "done": run.done,
        "total": total,
        "percent": round(100 * min(run.done, total) / total),
        "step": run.step,
        "message": message,
        "created_at": run.created_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "has_report": status == "done",
    }
