"""The relational and sexual history interview: interviews, landmarks, partners,
episodes, milestones, the Timeline Followback calendar and the edit log.

Revision ID: 0006
Revises: 0008
Create Date: 2026-12-06 03:00:00
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.id"],
        name=op.f(f"fk_{table}_{column}_{target}"),
        ondelete=ondelete,
    )


def _interview_child(table: str) -> list[Any]:
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("interview_id", sa.Integer(), nullable=False),
        _fk(table, "interview_id", "history_interviews", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    ]


def _index(table: str, column: str) -> None:
    op.create_index(op.f(f"ix_{table}_{column}"), table, [column], unique=False)


def upgrade() -> None:
    op.create_table(
        "history_interviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("birth", sa.String(length=7), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("started_by", sa.Integer(), nullable=True),
        _fk("history_interviews", "study_id", "studies", "CASCADE"),
        _fk("history_interviews", "person_id", "persons", "CASCADE"),
        _fk("history_interviews", "started_by", "researchers", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_history_interviews")),
        sa.UniqueConstraint("person_id", name=op.f("uq_history_interviews_person_id")),
    )
    _index("history_interviews", "study_id")
    op.create_table(
        "history_landmarks",
        *_interview_child("history_landmarks"),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=120), nullable=False),
        sa.Column("start_value", sa.String(length=16), nullable=False),
        sa.Column("start_precision", sa.String(length=8), nullable=False),
        sa.Column("end_value", sa.String(length=16), nullable=True),
        sa.Column("end_precision", sa.String(length=8), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    _index("history_landmarks", "interview_id")
    op.create_table(
        "history_partners",
        *_interview_child("history_partners"),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("pseudonym", sa.String(length=40), nullable=False),
        sa.Column("gender", sa.String(length=16), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("interview_id", "number", name="uq_history_partners_interview_number"),
    )
    _index("history_partners", "interview_id")
    op.create_table(
        "history_episodes",
        *_interview_child("history_episodes"),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("start_value", sa.String(length=16), nullable=False),
        sa.Column("start_precision", sa.String(length=8), nullable=False),
        sa.Column("end_value", sa.String(length=16), nullable=True),
        sa.Column("end_precision", sa.String(length=8), nullable=True),
        sa.Column("ongoing", sa.Boolean(), nullable=False),
        sa.Column("certainty", sa.Integer(), nullable=False),
        sa.Column("exclusivity", sa.String(length=16), nullable=True),
        sa.Column("cohabitation", sa.Boolean(), nullable=True),
        sa.Column("previous_id", sa.Integer(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        _fk("history_episodes", "partner_id", "history_partners", "CASCADE"),
        _fk("history_episodes", "previous_id", "history_episodes", "SET NULL"),
    )
    _index("history_episodes", "interview_id")
    _index("history_episodes", "partner_id")
    op.create_table(
        "history_milestones",
        *_interview_child("history_milestones"),
        sa.Column("partner_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("when_value", sa.String(length=16), nullable=False),
        sa.Column("when_precision", sa.String(length=8), nullable=False),
        sa.Column("certainty", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        _fk("history_milestones", "partner_id", "history_partners", "CASCADE"),
    )
    _index("history_milestones", "interview_id")
    op.create_table(
        "history_tlfb_days",
        *_interview_child("history_tlfb_days"),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=True),
        sa.Column("contacts", sa.Integer(), nullable=False),
        _fk("history_tlfb_days", "partner_id", "history_partners", "CASCADE"),
        sa.UniqueConstraint("interview_id", "day", "partner_id", name="uq_history_tlfb_days_cell"),
    )
    _index("history_tlfb_days", "interview_id")
    op.create_table(
        "history_edits",
        *_interview_child("history_edits"),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("researcher_id", sa.Integer(), nullable=True),
        sa.Column("entity", sa.String(length=16), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("before", _JSON, nullable=True),
        sa.Column("after", _JSON, nullable=True),
        _fk("history_edits", "researcher_id", "researchers", "SET NULL"),
    )
    _index("history_edits", "interview_id")


def downgrade() -> None:
    for table in (
        "history_edits",
        "history_tlfb_days",
        "history_milestones",
        "history_episodes",
        "history_partners",
        "history_landmarks",
    ):
        op.drop_index(op.f(f"ix_{table}_interview_id"), table_name=table)
        if table == "history_episodes":
            op.drop_index(op.f("ix_history_episodes_partner_id"), table_name=table)
        op.drop_table(table)
    op.drop_index(op.f("ix_history_interviews_study_id"), table_name="history_interviews")
    op.drop_table("history_interviews")
