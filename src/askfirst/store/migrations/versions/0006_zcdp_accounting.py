"""zCDP accounting: ρ on releases and charges; a release derived from another by withdrawals

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Charges made before ρ was recorded keep ρ = 0 here; `askfirst.training.budgets` counts
    # them at the ρ whose ε at the purpose's δ equals their recorded ε.
    with op.batch_alter_table("releases") as batch:
        batch.add_column(sa.Column("rho", sa.Float(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("parent_id", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("state_path", sa.String(length=500), nullable=False, server_default="")
        )
        batch.create_foreign_key(
            op.f("fk_releases_parent_id_releases"), "releases", ["parent_id"], ["id"]
        )
    with op.batch_alter_table("release_charges") as batch:
        batch.add_column(sa.Column("rho", sa.Float(), nullable=False, server_default="0"))
        batch.add_column(
            sa.Column("reason", sa.String(length=16), nullable=False, server_default="release")
        )


def downgrade() -> None:
    with op.batch_alter_table("release_charges") as batch:
        batch.drop_column("reason")
        batch.drop_column("rho")
    with op.batch_alter_table("releases") as batch:
        batch.drop_constraint(op.f("fk_releases_parent_id_releases"), type_="foreignkey")
        batch.drop_column("state_path")
        batch.drop_column("parent_id")
        batch.drop_column("rho")
