"""Alembic environment for the dyadlab platform.

The connection comes from ``config.attributes["connection"]`` when
:func:`dyadlab.platform.db.upgrade_database` runs the migrations, otherwise from
``-x url=...``, the ``sqlalchemy.url`` option or ``DYADLAB_DATABASE_URL``.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Connection

from dyadlab.platform.db import make_engine
from dyadlab.platform.settings import DEFAULT_DATABASE_URL
from dyadlab.platform.tables import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _url() -> str:
    return (
        context.get_x_argument(as_dictionary=True).get("url")
        or config.get_main_option("sqlalchemy.url")
        or os.environ.get("DYADLAB_DATABASE_URL")
        or DEFAULT_DATABASE_URL
    )


if context.is_offline_mode():
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
    else:
        engine = make_engine(_url())
        with engine.begin() as conn:
            _run(conn)
        engine.dispose()
