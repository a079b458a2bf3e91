"""personal models: one member's own counts, shown to that member alone

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from askfirst.store.tables.base import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "personal_models",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("purpose_key", sa.String(length=100), nullable=False),
        sa.Column("built_at", UTCDateTime(), nullable=False),
        sa.Column("message_count", sa.Integer(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_personal_models_member_id_members")
        ),
        sa.PrimaryKeyConstraint("member_id", "purpose_key", name=op.f("pk_personal_models")),
    )


def downgrade() -> None:
    op.drop_table("personal_models")
