"""Study members: a researcher's role in one study; each study's creator becomes its owner.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 00:20:00

Studies made without a creator (``dyadlab study create`` before this version) get no
member: give them an owner with ``dyadlab study member add STUDY EMAIL --role owner``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "study_members",
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("researcher_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.Column("added_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["study_id"],
            ["studies.id"],
            name=op.f("fk_study_members_study_id_studies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["researcher_id"],
            ["researchers.id"],
            name=op.f("fk_study_members_researcher_id_researchers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["added_by"],
            ["researchers.id"],
            name=op.f("fk_study_members_added_by_researchers"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("study_id", "researcher_id", name=op.f("pk_study_members")),
    )
    op.create_index(
        op.f("ix_study_members_researcher_id"), "study_members", ["researcher_id"], unique=False
    )
    op.execute(
        "INSERT INTO study_members (study_id, researcher_id, role, added_at) "
        "SELECT id, created_by, 'owner', created_at FROM studies WHERE created_by IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_study_members_researcher_id"), table_name="study_members")
    op.drop_table("study_members")
