"""journal entries, with triggers that refuse to change or remove them

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from askfirst.store.tables.base import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

REFUSAL = "journal entries are append-only"

SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER journal_entries_no_{verb.lower()}
    BEFORE {verb} ON journal_entries
    BEGIN SELECT RAISE(ABORT, '{REFUSAL}: {verb} refused'); END"""
    for verb in ("UPDATE", "DELETE")
]

POSTGRES_TRIGGERS = [
    f"""CREATE FUNCTION journal_entries_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{REFUSAL}: % refused', TG_OP USING ERRCODE = 'restrict_violation';
    END $$""",
    """CREATE TRIGGER journal_entries_no_change
    BEFORE UPDATE OR DELETE ON journal_entries
    FOR EACH ROW EXECUTE FUNCTION journal_entries_refuse()""",
    """CREATE TRIGGER journal_entries_no_truncate
    BEFORE TRUNCATE ON journal_entries
    FOR EACH STATEMENT EXECUTE FUNCTION journal_entries_refuse()""",
]


def upgrade() -> None:
    op.create_table(
        "journal_entries",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=True),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_journal_entries")),
    )
    op.create_index("ix_journal_entries_member_id", "journal_entries", ["member_id"])
    op.create_index("ix_journal_entries_kind", "journal_entries", ["kind"])
    triggers = SQLITE_TRIGGERS if op.get_bind().dialect.name == "sqlite" else POSTGRES_TRIGGERS
    for statement in triggers:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER journal_entries_no_update")
        op.execute("DROP TRIGGER journal_entries_no_delete")
    op.drop_index("ix_journal_entries_kind", table_name="journal_entries")
    op.drop_index("ix_journal_entries_member_id", table_name="journal_entries")
    op.drop_table("journal_entries")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION journal_entries_refuse()")
