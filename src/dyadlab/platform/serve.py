"""``dyadlab serve``: the platform in one process or in several uvicorn worker processes.

One Python process uses one core. With ``workers > 1`` uvicorn starts that many worker
processes that share the listening socket; each builds its own app with
:func:`worker_app` from the ``DYADLAB_*`` environment, so every setting reaches every
worker through the environment. The one setting that would differ between processes,
the secret key that signs researcher sessions (random per process when
``DYADLAB_SECRET_KEY`` is unset), is made once here and put in the environment of the
workers, so a login made by one worker is valid in the others.

The database is migrated once, by this (the supervising) process, before the workers
start. Reminders are sent by one thread in this process only — never once per worker.

Two workers suit a two-core machine (``benchmarks/platform_load.py``: one process tops
out near 300 submissions/s; two leave headroom for p99 latency); more workers than cores
only add context switches and, on SQLite, more waiting for the one writer lock.

Examples
--------
>>> from dyadlab.platform.settings import Settings
>>> check_workers(2)
2
>>> serve(Settings.from_env(), workers=2)  # doctest: +SKIP
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Any

from dyadlab.exceptions import OptionError
from dyadlab.platform.settings import Settings

__all__ = ["REMINDER_INTERVAL_S", "check_workers", "serve", "worker_app"]

#: Seconds between two rounds of :func:`~dyadlab.platform.services.reminders.send_due_reminders`.
REMINDER_INTERVAL_S = 60.0


def check_workers(workers: int) -> int:
    """``workers`` if it is a whole number of at least 1, else a one-line usage error."""
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise OptionError(
            f"serve: --workers must be a whole number of at least 1, got {workers!r}; "
            "use 1 (one process) or the number of cores (e.g. 2 on a 2-core machine)."
        )
    return workers


def _in_memory(database_url: str) -> bool:
    """Whether ``database_url`` is an in-memory SQLite database (one per process)."""
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def worker_app() -> Any:
    """The app of one worker process: settings from the environment, no migration (the
    supervising process has migrated the database)."""
    from dyadlab.platform.app import create_app

    return create_app(Settings.from_env(), migrate=False)


def _start_reminders(factory: Any, settings: Settings, stop: threading.Event) -> None:
    from dyadlab.platform.services.reminders import run_reminder_loop

    thread = threading.Thread(
        target=run_reminder_loop,
        args=(factory, settings),
        kwargs={"stop": stop, "interval_s": REMINDER_INTERVAL_S},
        name="dyadlab-reminders",
        daemon=True,
    )
    thread.start()
    print(
        f"dyadlab serve: reminders every {REMINDER_INTERVAL_S:.0f} s from process "
        f"{os.getpid()} (one loop for all workers)",
        file=sys.stderr,
        flush=True,
    )


def serve(
    settings: Settings,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    reminders: bool = True,
) -> None:
    """Serve the platform with uvicorn until interrupted (see the module docstring).

    Parameters
    ----------
    settings : Settings
        Read from the environment (:meth:`Settings.from_env`); with ``workers > 1`` each
        worker reads the same environment.
    host, port : str, int
        Where to listen.
    workers : int
        Worker processes (at least 1); 1 serves in this process.
    reminders : bool
        Send due reminders every minute from this process (when e-mail or Web Push is
        configured: ``DYADLAB_SMTP_HOST``, ``DYADLAB_VAPID_*``).
    """
    import uvicorn

    from dyadlab.platform.db import make_engine, make_sessionmaker, upgrade_database

    check_workers(workers)
    if workers > 1 and _in_memory(settings.database_url):
        raise OptionError(
            f"serve: --workers {workers} with the in-memory database "
            f"{settings.database_url!r} would give each worker a database of its own; "
            "use a file (sqlite:///dyadlab.db) or PostgreSQL, or --workers 1."
        )
    stop = threading.Event()
    if workers == 1:
        from dyadlab.platform.app import create_app

        app = create_app(settings)
        factory = app.state.sessionmaker
        target: Any = app
        engine = None
    else:
        # One secret for every worker; every other setting is in the environment already.
        os.environ["DYADLAB_SECRET_KEY"] = settings.secret_key
        os.environ["DYADLAB_DATABASE_URL"] = settings.database_url
        engine = make_engine(settings.database_url)
        upgrade_database(engine)
        factory = make_sessionmaker(engine)
        target = "dyadlab.platform.serve:worker_app"
    if reminders and (settings.smtp_host or settings.push_enabled):
        _start_reminders(factory, settings, stop)
    try:
        uvicorn.run(
            target,
            host=host,
            port=port,
            proxy_headers=True,
            factory=workers > 1,
            workers=workers if workers > 1 else None,
        )
    finally:
        stop.set()
        if engine is not None:
            engine.dispose()
