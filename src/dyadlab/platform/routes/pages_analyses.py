"""The researcher's "Analyses" page: run the study's preregistered plan, view the report.

Addresses::

    GET  /r/studies/{id}/analyses                   the plan (with the protocol's hash)
                                                    and the latest runs
    POST /r/studies/{id}/analyses                   start a run on the data so far
    GET  /r/studies/{id}/analyses/{run}/status      the run's progress (JSON, polled by
                                                    static/analyses.js)
    GET  /r/studies/{id}/analyses/{run}/report      the HTML report; ?download=1 as a file

Owners, collaborators and analysts of the study (the ``export`` permission: the report
is made of the answers); a non-member gets the page of a study that does not exist, a
monitor a 403 page, and a run of another study is answered like one that does not exist.
A run is a background job whose state is in the database
(:mod:`dyadlab.platform.services.analysis_runs`): the page shows its progress after a
reload. Every run is written to the audit log (action ``analyse``), like an export.

The report is served with its own Content-Security-Policy (``sandbox``, no scripts, no
requests): it holds only tables, text and inline images, and its inline style.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from dyadlab.exceptions import DyadlabError
from dyadlab.platform.errors import NotFoundError
from dyadlab.platform.routes._pages import CSRF_FIELD, csrf_ok
from dyadlab.platform.routes.deps import DbSession, Now
from dyadlab.platform.routes.pages_researcher import (
    PostedForm,
    ResearcherOrNone,
    _client,
    _page,
    _signed_in_study,
    _text,
)
from dyadlab.platform.services import analysis_runs, studies
from dyadlab.platform.tables import AnalysisRun, Researcher, Study

__all__ = ["REPORT_CSP", "router"]

router = APIRouter(prefix="/r", include_in_schema=False)

#: The report page may show its inline style and images, and nothing else.
REPORT_CSP = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'none'; sandbox"
)


def _plan_rows(study: Study) -> list[dict[str, Any]]:
    from dyadlab.platform.services.analyses import plan_steps
    from dyadlab.report.plan import plan_table

    protocol = studies.study_protocol(study)
    return (
        [
            {str(k): v for k, v in row.items()}
            for row in plan_table(plan_steps(protocol)).to_dict("records")
        ]
        if protocol.analysis
        else []
    )


def _analyses_page(
    request: Request,
    session: DbSession,
    researcher: Researcher,
    study: Study,
    now: Any,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    runs = [analysis_runs.run_state(r, now) for r in analysis_runs.list_runs(session, study.id)]
    return _page(
        request,
        "researcher/analyses.html",
        researcher,
        status_code=status_code,
        study=study,
        plan=_plan_rows(study),
        created=study.created_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
        runs=runs,
        running=any(r["status"] in ("queued", "running") for r in runs),
        error=error,
    )


def _run_or_page(
    request: Request,
    session: DbSession,
    researcher: Researcher | None,
    study_id: int,
    run_id: int,
    *,
    finished: bool = False,
) -> AnalysisRun | Response:
    """The run if the researcher may see it (``finished``: and it has a report), else the
    answer: the login, the study's 404/403 page, or one 404 page for a run that does not
    exist, belongs to another study or (``finished``) has no report."""
    checked = _signed_in_study(request, session, researcher, study_id, "export")
    if isinstance(checked, Response):
        return checked
    study, researcher = checked
    try:
        run = analysis_runs.get_run(session, study.id, run_id)
    except NotFoundError:
        run = None
    if run is None or (finished and (run.status != "done" or run.report is None)):
        return _page(
            request,
            "researcher/missing.html",
            researcher,
            status_code=404,
            study_id=study_id,
            what="run",
        )
    return run


@router.get("/studies/{study_id}/analyses", response_class=HTMLResponse)
def analyses_page(
    study_id: int, request: Request, session: DbSession, researcher: ResearcherOrNone, now: Now
) -> Response:
    """The plan and the latest runs, with their progress."""
    checked = _signed_in_study(request, session, researcher, study_id, "export")
    if isinstance(checked, Response):
        return checked
    study, researcher = checked
    return _analyses_page(request, session, researcher, study, now)


@router.post("/studies/{study_id}/analyses", response_class=HTMLResponse)
def analyses_run_post(
    study_id: int,
    request: Request,
    form: PostedForm,
    session: DbSession,
    researcher: ResearcherOrNone,
    now: Now,
) -> Response:
    """Start a run of the plan on the data so far (a background job)."""
    checked = _signed_in_study(request, session, researcher, study_id, "export")
    if isinstance(checked, Response):
        return checked
    study, researcher = checked
    if not csrf_ok(request, _text(form, CSRF_FIELD)):
        return _analyses_page(
            request,
            session,
            researcher,
            study,
            now,
            error="The form has expired. Please reload the page and try again.",
            status_code=403,
        )
    try:
        run = analysis_runs.start_run(
            session, study, researcher_id=researcher.id, client=_client(request)
        )
    except DyadlabError as exc:
        session.rollback()
        return _analyses_page(
            request, session, researcher, study, now, error=str(exc), status_code=409
        )
    session.commit()
    analysis_runs.launch(request.app.state.sessionmaker, run.id, now)
    return RedirectResponse(f"/r/studies/{study.id}/analyses#run-{run.id}", status_code=303)


@router.get("/studies/{study_id}/analyses/{run_id}/status", response_model=None)
def analyses_run_status(
    study_id: int,
    run_id: int,
    request: Request,
    session: DbSession,
    researcher: ResearcherOrNone,
    now: Now,
) -> Response:
    """The run's state as JSON (see :func:`~dyadlab.platform.services.analysis_runs.run_state`)."""
    run = _run_or_page(request, session, researcher, study_id, run_id)
    if not isinstance(run, AnalysisRun):
        return run
    return JSONResponse(analysis_runs.run_state(run, now), headers={"cache-control": "no-store"})


@router.get("/studies/{study_id}/analyses/{run_id}/report", response_model=None)
def analyses_run_report(
    study_id: int,
    run_id: int,
    request: Request,
    session: DbSession,
    researcher: ResearcherOrNone,
    download: bool = False,
) -> Response:
    """The run's HTML report (``?download=1``: as a file)."""
    run = _run_or_page(request, session, researcher, study_id, run_id, finished=True)
    if not isinstance(run, AnalysisRun):
        return run
    headers = {"content-security-policy": REPORT_CSP, "cache-control": "no-store"}
    if download:
        name = f"study{run.study_id}_analyses_run{run.id}.html"
        headers["content-disposition"] = f'attachment; filename="{name}"'
    return Response(run.report, media_type="text/html; charset=utf-8", headers=headers)
