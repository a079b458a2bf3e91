"""matrix: a live homeserver's connection and the events written from it

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from askfirst.store.tables.base import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

MATRIX_ID = sa.String(length=255)


def upgrade() -> None:
    op.create_table(
        "matrix_connections",
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("homeserver", sa.String(length=500), nullable=False),
        sa.Column("user_id", MATRIX_ID, nullable=False),
        sa.Column("device_id", MATRIX_ID, nullable=False),
        sa.Column("access_token", sa.Text(), nullable=False),
        sa.Column("connected_at", UTCDateTime(), nullable=False),
        sa.Column("next_batch", sa.Text(), nullable=True),
        sa.Column("synced_at", UTCDateTime(), nullable=True),
        sa.Column("events_written", sa.BigInteger(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_at", UTCDateTime(), nullable=True),
        sa.Column("retry_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_matrix_connections_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("workspace_id", name=op.f("pk_matrix_connections")),
    )
    op.create_table(
        "matrix_events",
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("event_id", MATRIX_ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column(
            "message_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("emoji", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["channels.id"], name=op.f("fk_matrix_events_channel_id_channels")
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_matrix_events_message_id_messages"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_matrix_events_member_id_members"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("channel_id", "event_id", name=op.f("pk_matrix_events")),
    )
    op.create_index("ix_matrix_events_message_id", "matrix_events", ["message_id"])
    op.create_index("ix_matrix_events_member_id", "matrix_events", ["member_id"])
    # Matrix user and room ids reach 255 characters; SQLite does not enforce a length.
    if op.get_bind().dialect.name == "postgresql":
        for table in ("members", "channels"):
            op.alter_column(table, "slack_id", type_=MATRIX_ID, existing_type=sa.String(64))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in ("members", "channels"):
            op.alter_column(table, "slack_id", type_=sa.String(64), existing_type=MATRIX_ID)
    op.drop_index("ix_matrix_events_member_id", table_name="matrix_events")
    op.drop_index("ix_matrix_events_message_id", table_name="matrix_events")
    op.drop_table("matrix_events")
    op.drop_table("matrix_connections")
