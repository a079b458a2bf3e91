"""org pools: an org's workspaces may train one shared release per purpose

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from askfirst.store.tables.base import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "org_pools",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("purpose_key", sa.String(length=100), nullable=False),
        sa.Column("pooled", sa.Boolean(), nullable=False),
        sa.Column("set_at", UTCDateTime(), nullable=False),
        sa.Column("actor_member_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_org_pools_org_id_orgs")),
        sa.ForeignKeyConstraint(
            ["actor_member_id"], ["members.id"], name=op.f("fk_org_pools_actor_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_org_pools")),
    )
    op.create_index("ix_org_pools_org", "org_pools", ["org_id", "purpose_key", "set_at"])
    with op.batch_alter_table("snapshots") as batch:
        batch.add_column(
            sa.Column("pooled_workspaces", sa.Text(), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("snapshots") as batch:
        batch.drop_column("pooled_workspaces")
    op.drop_index("ix_org_pools_org", table_name="org_pools")
    op.drop_table("org_pools")
