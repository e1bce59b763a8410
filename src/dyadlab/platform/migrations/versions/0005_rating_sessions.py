"""Continuous ratings: a couple's rating sessions, their markers, uploads and samples.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 03:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rating_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("couple_id", sa.Integer(), nullable=False),
        sa.Column("rating", sa.String(length=128), nullable=False),
        sa.Column("started_utc", sa.DateTime(), nullable=False),
        sa.Column("ends_utc", sa.DateTime(), nullable=False),
        sa.Column("stopped_utc", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["couple_id"],
            ["couples.id"],
            name=op.f("fk_rating_sessions_couple_id_couples"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rating_sessions")),
    )
    op.create_index(
        op.f("ix_rating_sessions_couple_id"), "rating_sessions", ["couple_id"], unique=False
    )
    op.create_table(
        "rating_markers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("at_utc", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["rating_sessions.id"],
            name=op.f("fk_rating_markers_session_id_rating_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rating_markers")),
    )
    op.create_index(
        op.f("ix_rating_markers_session_id"), "rating_markers", ["session_id"], unique=False
    )
    op.create_table(
        "rating_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Uuid(), nullable=False),
        sa.Column("n_samples", sa.Integer(), nullable=False),
        sa.Column("received_utc", sa.DateTime(), nullable=False),
        sa.Column("clock_offset_ms", sa.Double(), nullable=True),
        sa.Column("clock_rtt_ms", sa.Double(), nullable=True),
        sa.Column("clock_at_ms", sa.Double(), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.id"],
            name=op.f("fk_rating_batches_person_id_persons"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["rating_sessions.id"],
            name=op.f("fk_rating_batches_session_id_rating_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rating_batches")),
        sa.UniqueConstraint("person_id", "batch_id", name="uq_rating_batches_person_batch"),
    )
    op.create_index(
        op.f("ix_rating_batches_session_id"), "rating_batches", ["session_id"], unique=False
    )
    op.create_table(
        "rating_samples",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("batch_pk", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("device_ms", sa.Double(), nullable=False),
        sa.Column("value", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_pk"],
            ["rating_batches.id"],
            name=op.f("fk_rating_samples_batch_pk_rating_batches"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.id"],
            name=op.f("fk_rating_samples_person_id_persons"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["rating_sessions.id"],
            name=op.f("fk_rating_samples_session_id_rating_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rating_samples")),
    )
    op.create_index(
        op.f("ix_rating_samples_batch_pk"), "rating_samples", ["batch_pk"], unique=False
    )
    op.create_index(
        "ix_rating_samples_session_person",
        "rating_samples",
        ["session_id", "person_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_rating_samples_session_person", table_name="rating_samples")
    op.drop_index(op.f("ix_rating_samples_batch_pk"), table_name="rating_samples")
    op.drop_table("rating_samples")
    op.drop_index(op.f("ix_rating_batches_session_id"), table_name="rating_batches")
    op.drop_table("rating_batches")
    op.drop_index(op.f("ix_rating_markers_session_id"), table_name="rating_markers")
    op.drop_table("rating_markers")
    op.drop_index(op.f("ix_rating_sessions_couple_id"), table_name="rating_sessions")
    op.drop_table("rating_sessions")
