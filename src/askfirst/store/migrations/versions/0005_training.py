"""training: snapshots and their members, releases, budget charges

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from askfirst.store.tables.base import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

PROMOTED = sa.text("status = 'promoted'")


def upgrade() -> None:
    op.create_table(
        "snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("purpose_key", sa.String(length=100), nullable=False),
        sa.Column("watermark", UTCDateTime(), nullable=False),
        sa.Column("taken_at", UTCDateTime(), nullable=False),
        sa.Column("channel_kinds", sa.String(length=100), nullable=False),
        sa.Column("member_count", sa.Integer(), nullable=False),
        sa.Column("message_count", sa.Integer(), nullable=False),
        sa.Column("reaction_count", sa.Integer(), nullable=False),
        sa.Column("membership_count", sa.Integer(), nullable=False),
        sa.Column("left_out_for_budget", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name=op.f("fk_snapshots_workspace_id_workspaces")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_snapshots")),
    )
    op.create_index("ix_snapshots_workspace_purpose", "snapshots", ["workspace_id", "purpose_key"])
    op.create_table(
        "snapshot_members",
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("is_holdout", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["snapshots.id"],
            name=op.f("fk_snapshot_members_snapshot_id_snapshots"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_snapshot_members_member_id_members")
        ),
        sa.PrimaryKeyConstraint("snapshot_id", "member_id", name=op.f("pk_snapshot_members")),
    )
    op.create_index(op.f("ix_snapshot_members_member_id"), "snapshot_members", ["member_id"])
    op.create_table(
        "releases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("purpose_key", sa.String(length=100), nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("watermark", UTCDateTime(), nullable=False),
        sa.Column("member_count", sa.Integer(), nullable=False),
        sa.Column("epsilon", sa.Float(), nullable=False),
        sa.Column("delta", sa.Float(), nullable=False),
        sa.Column("mechanism", sa.JSON(), nullable=False),
        sa.Column("utility", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "created",
                "promoted",
                "retired",
                name="releasestatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("status_detail", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("promoted_at", UTCDateTime(), nullable=True),
        sa.Column("retired_at", UTCDateTime(), nullable=True),
        sa.Column("artifact_path", sa.String(length=500), nullable=False),
        sa.Column("artifact_sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name=op.f("fk_releases_workspace_id_workspaces")
        ),
        sa.ForeignKeyConstraint(
            ["snapshot_id"], ["snapshots.id"], name=op.f("fk_releases_snapshot_id_snapshots")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_releases")),
        sa.UniqueConstraint("snapshot_id", name=op.f("uq_releases_snapshot_id")),
    )
    op.create_index(
        "ix_releases_workspace_purpose",
        "releases",
        ["workspace_id", "purpose_key", "created_at"],
    )
    op.create_index(
        "uq_releases_promoted",
        "releases",
        ["workspace_id", "purpose_key"],
        unique=True,
        sqlite_where=PROMOTED,
        postgresql_where=PROMOTED,
    )
    op.create_table(
        "release_charges",
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("purpose_key", sa.String(length=100), nullable=False),
        sa.Column("epsilon", sa.Float(), nullable=False),
        sa.Column("charged_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["release_id"], ["releases.id"], name=op.f("fk_release_charges_release_id_releases")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_release_charges_member_id_members")
        ),
        sa.PrimaryKeyConstraint("release_id", "member_id", name=op.f("pk_release_charges")),
    )
    op.create_index(
        "ix_release_charges_member",
        "release_charges",
        ["member_id", "purpose_key", "charged_at"],
    )
    op.create_index("ix_release_charges_purpose", "release_charges", ["purpose_key", "charged_at"])


def downgrade() -> None:
    op.drop_index("ix_release_charges_purpose", table_name="release_charges")
    op.drop_index("ix_release_charges_member", table_name="release_charges")
    op.drop_table("release_charges")
    op.drop_index("uq_releases_promoted", table_name="releases")
    op.drop_index("ix_releases_workspace_purpose", table_name="releases")
    op.drop_table("releases")
    op.drop_index(op.f("ix_snapshot_members_member_id"), table_name="snapshot_members")
    op.drop_table("snapshot_members")
    op.drop_index("ix_snapshots_workspace_purpose", table_name="snapshots")
    op.drop_table("snapshots")
