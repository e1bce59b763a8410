"""Platform operations: ``dyadlab study create|invite|list|withdraw|analyse``, ``dyadlab study
member add|remove|list``, ``dyadlab export``, ``dyadlab researcher add``,
``dyadlab reminders send|push-keys`` and ``dyadlab serve``.

Every command takes the database from ``DYADLAB_DATABASE_URL`` (default
``sqlite:///dyadlab.db``), upgrades it to the newest migration, and with ``--json``
prints exactly one JSON object. Without the platform extra they say
``pip install 'dyadlab[platform]'``.

Examples
--------
$ dyadlab study create daily_diary.yaml --json
{"study_id": 1, "title": "Daily intimacy in couples", "protocol_hash": "…"}
$ dyadlab study member add 1 ann@lab.example --role collaborator
$ dyadlab study invite 1 --couples 2 --json
{"study_id": 1, "couples": [{"couple_id": 1, "partners": [{"person_id": 1, "token": …}]}]}
$ dyadlab study invite 1 --couples 3 --roles woman,woman   # a same-role couple, 3 times
$ dyadlab study invite 1 --couples 2 --indistinguishable    # couples without roles
$ dyadlab export 1 --format individual --out diary.csv
$ dyadlab export 1 --history --out episodes.csv             # history interview episodes
$ dyadlab study analyse 1 --out report.html                 # the protocol's analysis plan
$ dyadlab reminders push-keys >> .env                       # Web Push keys, once
$ dyadlab serve --port 8000 --workers 2
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dyadlab.exceptions import DyadlabError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from dyadlab.platform.settings import Settings

__all__ = ["register"]

MISSING = "the platform needs its extra dependencies: pip install 'dyadlab[platform]'"
_NEEDED = ("fastapi", "sqlalchemy", "alembic", "argon2", "uvicorn")

study_app = typer.Typer(help="Create studies and invite couples.", no_args_is_help=True)
researcher_app = typer.Typer(help="Researcher accounts.", no_args_is_help=True)
member_app = typer.Typer(
    help="A study's members and their roles (owner, collaborator, analyst, monitor, interviewer).",
    no_args_is_help=True,
)
reminders_app = typer.Typer(help="Reminders (e-mail and Web Push).", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


def register(app: typer.Typer) -> None:
    """Add the platform commands to ``app``."""
    study_app.add_typer(member_app, name="member")
    app.add_typer(study_app, name="study")
    app.add_typer(researcher_app, name="researcher")
    app.add_typer(reminders_app, name="reminders")
    app.command("export", help="Export a study's data, codebook and compliance.")(export_command)
    app.command("serve", help="Run the platform's web server (uvicorn).")(serve_command)


def _require_platform() -> None:
    missing = [m for m in _NEEDED if importlib.util.find_spec(m) is None]
    if missing:
        raise DyadlabError(f"{MISSING} (missing: {', '.join(missing)})")


def _settings() -> Settings:
    _require_platform()
    from dyadlab.platform.settings import Settings

    return Settings.from_env()


@contextmanager
def _session(settings: Settings) -> Iterator[Session]:
    from dyadlab.platform.db import make_engine, make_sessionmaker, session_scope, upgrade_database

    engine = make_engine(settings.database_url)
    try:
        upgrade_database(engine)
        with session_scope(make_sessionmaker(engine)) as session:
            yield session
    finally:
        engine.dispose()


def _echo_json(data: dict[str, Any]) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, default=str))


@study_app.command("create")
def create_command(
    protocol: Annotated[Path, typer.Argument(help="Protocol file: .yaml, .xlsx or .csv.")],
    owner: Annotated[
        str | None,
        typer.Option(
            "--owner",
            help="E-mail address of the account that owns the study (without it, nobody "
            "sees the study on the web until `study member add` gives it an owner).",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a study from a protocol file; prints the new study's id."""
    settings = _settings()
    from dyadlab.platform.protocol import load_protocol
    from dyadlab.platform.services.access import add_member
    from dyadlab.platform.services.studies import create_study

    parsed = load_protocol(protocol)
    with _session(settings) as session:
        study = create_study(session, parsed)
        if owner is not None:
            add_member(session, study.id, owner, "owner")
        out = {"study_id": study.id, "title": study.title, "protocol_hash": study.protocol_hash}
    if as_json:
        _echo_json(out)
    else:
        typer.echo(f"Created study {out['study_id']}: {out['title']}")


@study_app.command("invite")
def invite_command(
    study: Annotated[int, typer.Argument(help="Study id.")],
    couples: Annotated[int, typer.Option("--couples", help="Number of couples to invite.")] = 1,
    start_date: Annotated[
        str | None, typer.Option("--start-date", help="Diary day 1 (YYYY-MM-DD); default today.")
    ] = None,
    tz: Annotated[
        str | None, typer.Option("--tz", help="Initial time zone (IANA), e.g. Europe/Amsterdam.")
    ] = None,
    roles: Annotated[
        str | None,
        typer.Option(
            "--roles",
            help="Roles of both partners for every couple of this call, e.g. man,woman or "
            "woman,woman; default the protocol's roles.",
        ),
    ] = None,
    indistinguishable: Annotated[
        bool,
        typer.Option("--indistinguishable", help="Invite these couples without roles."),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Invite couples; prints each partner's personal link (shown only now).

    Mixed studies invite each composition in its own call, e.g. --couples 5 --roles
    man,woman, then --couples 3 --roles woman,woman, then --indistinguishable.
    """
    settings = _settings()
    from dyadlab.exceptions import OptionError
    from dyadlab.platform.services.invitations import invite_couples

    try:
        day1 = date.fromisoformat(start_date) if start_date else None
    except ValueError:
        raise OptionError(
            f"study invite: --start-date {start_date!r} is not a date; use YYYY-MM-DD."
        ) from None
    per_couple = _couple_roles(roles, indistinguishable, couples)
    with _session(settings) as session:
        made = invite_couples(
            session,
            study,
            couples,
            base_url=settings.base_url,
            start_date=day1,
            tz=tz or settings.default_tz,
            roles=per_couple,
        )
        out = {"study_id": study, "couples": [c.to_dict() for c in made]}
    if as_json:
        _echo_json(out)
        return
    typer.echo(f"Invited {len(made)} couples to study {study}. Links are shown only now:")
    for c in made:
        for p in c.partners:
            role = f" ({p.role})" if p.role else ""
            typer.echo(f"  couple {c.couple_id}, person {p.person_id}{role}: {p.url}")


def _couple_roles(
    roles: str | None, indistinguishable: bool, couples: int
) -> list[list[str] | None] | None:
    """Per-couple roles for ``invite_couples``: ``--roles a,b`` gives every couple
    [a, b], ``--indistinguishable`` no roles; neither the protocol's roles (None)."""
    from dyadlab.exceptions import OptionError

    if roles is not None and indistinguishable:
        raise OptionError(
            "study invite: --roles and --indistinguishable exclude each other; give one."
        )
    if indistinguishable:
        return [None] * couples
    if roles is None:
        return None
    pair = [r.strip() for r in roles.split(",")]
    if len(pair) != 2 or not all(pair):
        raise OptionError(
            f"study invite: --roles {roles!r} is not two roles; use e.g. --roles man,woman "
            "(or woman,woman for a same-role couple)."
        )
    return [pair] * couples


@study_app.command("withdraw")
def withdraw_command(
    study: Annotated[int, typer.Argument(help="Study id.")],
    person: Annotated[int, typer.Argument(help="Person id (from `study invite`).")],
    delete_data: Annotated[
        bool,
        typer.Option(
            "--delete-data/--keep-data",
            help="Also delete the person's answers and the partner's judgments about them.",
        ),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Record a participant's withdrawal on their behalf (e.g. asked by e-mail)."""
    settings = _settings()
    from dyadlab.platform.services.withdrawal import study_person, withdraw

    with _session(settings) as session:
        result = withdraw(session, study_person(session, study, person), delete_data=delete_data)
        out = {"study_id": study, **result.to_dict()}
    if as_json:
        _echo_json(out)
    else:
        deleted = f", {out['deleted_responses']} responses deleted" if delete_data else ""
        typer.echo(f"Person {person} withdrew from study {study}{deleted}.")


@study_app.command("list")
def list_command(as_json: JsonOpt = False) -> None:
    """List the studies with their numbers of couples, persons and responses."""
    settings = _settings()
    from dyadlab.platform.services.studies import list_studies

    with _session(settings) as session:
        rows = [
            {
                "study_id": s.study.id,
                "title": s.study.title,
                "couples": s.n_couples,
                "persons": s.n_persons,
                "responses": s.n_responses,
            }
            for s in list_studies(session)
        ]
    if as_json:
        _echo_json({"studies": rows})
        return
    for r in rows:
        typer.echo(
            f"{r['study_id']}: {r['title']} — {r['couples']} couples, {r['responses']} responses"
        )


@member_app.command("add")
def member_add_command(
    study: Annotated[int, typer.Argument(help="Study id.")],
    email: Annotated[str, typer.Argument(help="The account's e-mail address.")],
    role: Annotated[
        str, typer.Option("--role", help="owner, collaborator, analyst or monitor.")
    ] = "analyst",
    as_json: JsonOpt = False,
) -> None:
    """Give an account a role in a study (adds it, or changes its role). Audit-logged."""
    settings = _settings()
    from dyadlab.platform.services.access import add_member
    from dyadlab.platform.services.studies import get_study

    with _session(settings) as session:
        get_study(session, study)
        out = {"study_id": study, **add_member(session, study, email, role).to_dict()}
    if as_json:
        _echo_json(out)
    else:
        typer.echo(f"{out['email']} is now {out['role']} of study {study}.")


@member_app.command("remove")
def member_remove_command(
    study: Annotated[int, typer.Argument(help="Study id.")],
    email: Annotated[str, typer.Argument(help="The account's e-mail address.")],
    as_json: JsonOpt = False,
) -> None:
    """Remove an account from a study (a study keeps at least one owner). Audit-logged."""
    settings = _settings()
    from dyadlab.platform.services.access import list_members, remove_member

    with _session(settings) as session:
        wanted = email.strip().lower()
        found = [m for m in list_members(session, study) if m.email == wanted]
        if not found:
            raise DyadlabError(
                f"study member remove: {email!r} is not a member of study {study}; "
                f"see `dyadlab study member list {study}`."
            )
        remove_member(session, study, found[0].researcher_id)
    if as_json:
        _echo_json({"study_id": study, "removed": wanted})
    else:
        typer.echo(f"Removed {wanted} from study {study}.")


@member_app.command("list")
def member_list_command(
    study: Annotated[int, typer.Argument(help="Study id.")],
    as_json: JsonOpt = False,
) -> None:
    """List a study's members and their roles."""
    settings = _settings()
    from dyadlab.platform.services.access import list_members
    from dyadlab.platform.services.studies import get_study

    with _session(settings) as session:
        get_study(session, study)
        members = [m.to_dict() for m in list_members(session, study)]
    if as_json:
        _echo_json({"study_id": study, "members": members})
        return
    if not members:
        typer.echo(f"Study {study} has no members; add an owner with `study member add`.")
    for m in members:
        typer.echo(f"{m['email']}: {m['role']}")


def export_command(
    study: Annotated[int, typer.Argument(help="Study id.")],
    format: Annotated[
        str, typer.Option("--format", help="individual, pairwise or dyad.")
    ] = "individual",
    out: Annotated[
        Path | None, typer.Option("--out", help="Data file: .csv, .parquet or .sav (required).")
    ] = None,
    history: Annotated[
        bool,
        typer.Option(
            "--history",
            help="Export the history interviews' episodes instead (--out .csv or .json).",
        ),
    ] = False,
    ratings: Annotated[
        bool,
        typer.Option(
            "--ratings",
            help="Export the continuous ratings instead (long format, one row per sample; "
            "markers beside it).",
        ),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Export a study: data file plus codebook, compliance and withdrawals beside it."""
    settings = _settings()
    from dyadlab.exceptions import OptionError
    from dyadlab.platform.services.export import export_study
    from dyadlab.platform.services.researchers import audit

    if out is None:
        raise OptionError("export: --out FILE is required (.csv, .parquet or .sav).")
    if history and ratings:
        raise OptionError("export: give --history or --ratings, not both (one file each).")
    if history:
        _export_history(settings, study, out, as_json=as_json)
        return
    if ratings:
        _export_ratings(settings, study, out, as_json)
        return
    with _session(settings) as session:
        result = export_study(session, study, layout=format, out=out)
        audit(
            session,
            "export",
            study_id=study,
            subject=f"cli:{os.environ.get('USER', 'unknown')}",
            detail={"format": format, "file": out.suffix, "rows": result.n_rows},
        )
    data = {"study_id": study, **result.to_dict()}
    if as_json:
        _echo_json(data)
        return
    typer.echo(f"Wrote {result.n_rows} rows ({format}) to {out}")
    for path in result.files[1:]:
        typer.echo(f"  and {path}")
    flagged = result.compliance["flagged_couples"]
    if flagged:
        typer.echo(f"Couples below the compliance threshold: {flagged}")
    for w in result.withdrawals:
        deleted = ", data deleted" if w["data_deleted"] else ""
        typer.echo(f"Person {w['person']} (couple {w['dyad']}) withdrew{deleted}.")


def _export_history(settings: Settings, study: int, out: Path, *, as_json: bool) -> None:
    """``dyadlab export STUDY --history --out FILE``: the episodes as CSV or JSON."""
    from dyadlab.exceptions import OptionError
    from dyadlab.platform.services.history import export_csv, export_more, export_rows
    from dyadlab.platform.services.history_tlfb import calendar_rows
    from dyadlab.platform.services.researchers import audit
    from dyadlab.platform.services.studies import get_study

    suffix = out.suffix.lower()
    if suffix not in (".csv", ".json"):
        raise OptionError(
            f"export --history: --out {out.name!r} must end in .csv or .json "
            "(the episodes as CSV, or as JSON with pseudonyms and notes)."
        )
    with _session(settings) as session:
        get_study(session, study)  # a missing study: one clear line
        rows = export_rows(session, study)
        if suffix == ".csv":
            out.write_text(export_csv(rows), encoding="utf-8")
        else:
            body = {
                "study_id": study,
                "episodes": rows,
                **export_more(session, study),
                "calendar": calendar_rows(session, study),
            }
            out.write_text(json.dumps(body, ensure_ascii=False, indent=1), encoding="utf-8")
        audit(
            session,
            "export",
            study_id=study,
            subject=f"cli:{os.environ.get('USER', 'unknown')}",
            detail={"format": f"history_{suffix[1:]}", "rows": len(rows)},
        )
    if as_json:
        _echo_json({"study_id": study, "history": True, "file": str(out), "n_rows": len(rows)})
        return
    typer.echo(f"Wrote {len(rows)} episodes to {out}")


def _export_ratings(settings: Settings, study: int, out: Path, as_json: bool) -> None:
    from dyadlab.platform.services.ratings import export_ratings
    from dyadlab.platform.services.researchers import audit
    from dyadlab.platform.tables import utcnow

    with _session(settings) as session:
        result = export_ratings(session, study, out, now=utcnow())
        audit(
            session,
            "export",
            study_id=study,
            subject=f"cli:{os.environ.get('USER', 'unknown')}",
            detail={"format": "ratings", "file": out.suffix, "rows": result["n_rows"]},
        )
    if as_json:
        _echo_json({"study_id": study, **result})
        return
    typer.echo(
        f"Wrote {result['n_rows']} samples of {result['n_sessions']} rating sessions to {out}"
    )
    typer.echo(f"  and {result['files'][1]}")


@study_app.command("analyse")
def analyse_command(
    study: Annotated[int, typer.Argument(help="Study id.")],
    out: Annotated[
        Path | None, typer.Option("--out", help="The report file to write (required).")
    ] = None,
    format: Annotated[str, typer.Option("--format", help="html (default) or docx.")] = "html",
    extra: Annotated[
        Path | None,
        typer.Option(
            "--extra",
            help="YAML file with an 'analysis:' list of models beyond the plan, written "
            "like the protocol's; reported as not preregistered.",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Run the study's preregistered analysis plan on its data so far and write the report.

    The data are exported as `dyadlab export` does (individual format); the report gives
    the protocol's hash and the study's creation time. Every run is audit-logged.
    """
    settings = _settings()
    from dyadlab.exceptions import OptionError
    from dyadlab.platform.services.analyses import analyse_study
    from dyadlab.platform.services.researchers import audit

    if out is None:
        raise OptionError("study analyse: --out FILE is required (e.g. --out report.html).")
    models: Any = []
    if extra is not None:
        from dyadlab.platform.protocol import _read_yaml

        models = _read_yaml(extra).get("analysis")
        if not isinstance(models, list):
            raise OptionError(
                f"study analyse: {extra.name} must have an 'analysis:' key with a list of "
                "models, as in a protocol."
            )
    call = "dyadlab " + " ".join(sys.argv[1:]) if len(sys.argv) > 1 else ""
    with _session(settings) as session:
        result = analyse_study(
            session,
            study,
            out=out,
            format=format.lower(),
            extra=models,
            call=call or f"dyadlab study analyse {study} --out {out}",
        )
        audit(
            session,
            "analyse",
            study_id=study,
            subject=f"cli:{os.environ.get('USER', 'unknown')}",
            detail={
                "format": result.format,
                "rows": result.n_rows,
                "models": len(result.models),
                "exploratory": sum(not m["preregistered"] for m in result.models),
            },
        )
    if as_json:
        _echo_json(result.to_dict())
        return
    fitted = ", ".join(result.results) or "none"
    typer.echo(f"Wrote {result.report} ({result.n_rows} rows; fitted: {fitted}).")
    typer.echo(f"Protocol hash {result.protocol_hash}.")


@researcher_app.command("add")
def researcher_add_command(
    email: Annotated[str, typer.Argument(help="E-mail address (the login).")],
    role: Annotated[
        str,
        typer.Option(
            "--role",
            help="admin (manages accounts, creates studies), owner (creates studies) or "
            "analyst; access to a study comes from `study member add`.",
        ),
    ] = "analyst",
    as_json: JsonOpt = False,
) -> None:
    """Create a researcher account. The password is read from DYADLAB_RESEARCHER_PASSWORD
    or asked for (never an argument, so it stays out of the shell history)."""
    settings = _settings()
    from dyadlab.platform.services.researchers import create_researcher

    password = os.environ.get("DYADLAB_RESEARCHER_PASSWORD")
    if not password:
        if not sys.stdin.isatty():
            raise DyadlabError(
                "researcher add: set DYADLAB_RESEARCHER_PASSWORD or run it in a terminal."
            )
        password = str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))
    with _session(settings) as session:
        account = create_researcher(session, email, password, role=role)
        out = {"researcher_id": account.id, "email": account.email, "role": account.role}
    if as_json:
        _echo_json(out)
    else:
        typer.echo(f"Created {out['role']} account {out['email']}.")


@reminders_app.command("send")
def reminders_send_command(as_json: JsonOpt = False) -> None:
    """Send the reminders due now, by e-mail and Web Push (once; run it from cron, or use
    `serve`)."""
    settings = _settings()
    from dyadlab.platform.services.reminders import send_due_reminders

    with _session(settings) as session:
        outcomes = send_due_reminders(session, settings)
        out = {
            "sent": sum(o.status == "sent" for o in outcomes),
            "failed": sum(o.status == "failed" for o in outcomes),
        }
    if as_json:
        _echo_json(out)
    else:
        typer.echo(f"Reminders sent: {out['sent']}, failed: {out['failed']}.")


@reminders_app.command("push-keys")
def push_keys_command(
    subject: Annotated[
        str,
        typer.Option("--subject", help="Contact for the push services: mailto: or https://."),
    ] = "mailto:research-team@example.org",
    as_json: JsonOpt = False,
) -> None:
    """Print a new VAPID key pair for Web Push reminders as environment lines.

    Put the lines in the server's environment (e.g. an env file that only the server
    can read); the private key is a secret. Changing the keys later makes every
    browser subscribe again. Nothing is stored or logged by this command.
    """
    _require_platform()
    if not subject.startswith(("mailto:", "https://")):
        raise DyadlabError(
            f"reminders push-keys: --subject {subject!r} must be a mailto: address or an "
            "https:// URL."
        )
    from dyadlab.platform.notify import vapid_env_keys

    private, public = vapid_env_keys()
    env = {
        "DYADLAB_VAPID_PRIVATE_KEY": private,
        "DYADLAB_VAPID_PUBLIC_KEY": public,
        "DYADLAB_VAPID_SUBJECT": subject,
    }
    if as_json:
        _echo_json({"env": env})
    else:
        typer.echo("# Web Push (VAPID) keys for dyadlab; keep the private key secret.")
        for name, value in env.items():
            typer.echo(f"{name}={value}")


def serve_command(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            help="Worker processes (default 1); one per core, e.g. 2 on a 2-core machine.",
        ),
    ] = 1,
    reminders: Annotated[
        bool,
        typer.Option(
            "--reminders/--no-reminders",
            help=(
                "Send reminders every minute (e-mail needs DYADLAB_SMTP_HOST, Web Push "
                "the DYADLAB_VAPID_* keys)."
            ),
        ),
    ] = True,
) -> None:
    """Serve the platform with uvicorn (put a TLS proxy in front). With --workers N,
    N processes share the port; reminders are sent by one loop in the main process."""
    settings = _settings()
    from dyadlab.platform.serve import serve

    serve(settings, host=host, port=port, workers=workers, reminders=reminders)
