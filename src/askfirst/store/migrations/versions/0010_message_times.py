"""message times: a channel's messages by time, for the chat page's newest-first reads

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The chat page reads a channel's newest messages and each sidebar channel's latest time:
    # without this index both sort or scan every message of the channel on every request.
    op.create_index("ix_messages_channel_posted", "messages", ["channel_id", "posted_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_messages_channel_posted", table_name="messages")
