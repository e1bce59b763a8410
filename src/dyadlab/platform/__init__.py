"""The couples' diary platform: collect from both partners, export for analysis.

Needs the ``platform`` extra (``pip install 'dyadlab[platform]'``): FastAPI,
SQLAlchemy 2, Alembic, psycopg 3 and argon2-cffi.

Layout
------
settings.py   one typed :class:`~dyadlab.platform.settings.Settings`, read from the environment
db.py         the SQLAlchemy engine (SQLite in WAL mode, or PostgreSQL via psycopg 3)
tables.py     the database tables; ``migrations/`` holds their Alembic history
services/     plain functions taking a ``Session``: studies, invitations, consent,
              responses, withdrawal, compliance, export, reminders
routes/       the JSON API under ``/api/v1`` (participant and researcher)
app.py        :func:`~dyadlab.platform.app.create_app`

Examples
--------
>>> from dyadlab.platform.settings import Settings
>>> Settings(database_url="sqlite:///:memory:").database_url
'sqlite:///:memory:'
"""

from __future__ import annotations

MISSING_EXTRA = "the platform needs its extra dependencies: pip install 'dyadlab[platform]'"
