"""consent: notices shown, restrict-only policies, answers, withdrawals and their steps

Revision ID: 0003
Revises: 0002
Depends on: 0002 (consent changes are journaled in the same transaction)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from askfirst.store.tables.base import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
ANSWERS = ("granted", "withdrawn", "refused")
METHODS = ("page", "api", "gpc", "admin-policy", "cli")
STATUSES = (
    "received",
    "excluded_from_new_training",
    "served_releases_replaced",
    "complete",
    "overdue",
)


def _enum(name: str, values: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=32)


def upgrade() -> None:
    op.create_table(
        "consent_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("purpose_key", sa.String(length=100), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("reads", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("first_seen", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_notices")),
        sa.UniqueConstraint(
            "purpose_key", "version", name=op.f("uq_consent_notices_purpose_key_version")
        ),
    )
    op.create_index(
        op.f("ix_consent_notices_version"), "consent_notices", ["version"], unique=False
    )
    op.create_table(
        "consent_policies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=True),
        sa.Column("workspace_id", sa.Integer(), nullable=True),
        sa.Column("purpose_key", sa.String(length=100), nullable=False),
        sa.Column("allowed", sa.Boolean(), nullable=False),
        sa.Column("include_private", sa.Boolean(), nullable=False),
        sa.Column("set_at", UTCDateTime(), nullable=False),
        sa.Column("actor_member_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(org_id IS NULL) <> (workspace_id IS NULL)",
            name=op.f("ck_consent_policies_one_scope"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name=op.f("fk_consent_policies_org_id_orgs")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_consent_policies_workspace_id_workspaces"),
        ),
        sa.ForeignKeyConstraint(
            ["actor_member_id"],
            ["members.id"],
            name=op.f("fk_consent_policies_actor_member_id_members"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_policies")),
    )
    op.create_index(
        "ix_consent_policies_org", "consent_policies", ["org_id", "purpose_key", "set_at"]
    )
    op.create_index(
        "ix_consent_policies_workspace",
        "consent_policies",
        ["workspace_id", "purpose_key", "set_at"],
    )
    op.create_table(
        "consent_answers",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("purpose_key", sa.String(length=100), nullable=False),
        sa.Column("answer", _enum("answer", ANSWERS), nullable=False),
        sa.Column("answered_at", UTCDateTime(), nullable=False),
        sa.Column("method", _enum("answermethod", METHODS), nullable=False),
        sa.Column("notice_version", sa.String(length=64), nullable=False),
        sa.Column("actor_member_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_consent_answers_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["actor_member_id"],
            ["members.id"],
            name=op.f("fk_consent_answers_actor_member_id_members"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_answers")),
    )
    op.create_index(
        "ix_consent_answers_member",
        "consent_answers",
        ["member_id", "purpose_key", "answered_at"],
    )
    op.create_index("ix_consent_answers_purpose", "consent_answers", ["purpose_key", "answered_at"])
    op.create_table(
        "withdrawals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("purpose_key", sa.String(length=100), nullable=False),
        sa.Column("answer_id", BIG_ID, nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("deadline", UTCDateTime(), nullable=False),
        sa.Column("status", _enum("withdrawalstatus", STATUSES), nullable=False),
        sa.Column("status_at", UTCDateTime(), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_withdrawals_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["answer_id"],
            ["consent_answers.id"],
            name=op.f("fk_withdrawals_answer_id_consent_answers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_withdrawals")),
    )
    op.create_index(op.f("ix_withdrawals_member_id"), "withdrawals", ["member_id"])
    op.create_index("ix_withdrawals_status_deadline", "withdrawals", ["status", "deadline"])
    op.create_table(
        "withdrawal_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("withdrawal_id", sa.Integer(), nullable=False),
        sa.Column("from_status", _enum("withdrawalstatus", STATUSES), nullable=True),
        sa.Column("to_status", _enum("withdrawalstatus", STATUSES), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["withdrawal_id"],
            ["withdrawals.id"],
            name=op.f("fk_withdrawal_steps_withdrawal_id_withdrawals"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_withdrawal_steps")),
    )
    op.create_index(
        op.f("ix_withdrawal_steps_withdrawal_id"), "withdrawal_steps", ["withdrawal_id"]
    )


def downgrade() -> None:
    op.drop_table("withdrawal_steps")
    op.drop_table("withdrawals")
    op.drop_table("consent_answers")
    op.drop_table("consent_policies")
    op.drop_table("consent_notices")
