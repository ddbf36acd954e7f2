"""Portal log-in (issue 18 §1): sessions, TOTP factors, password-reset tokens

Revision ID: 0033
Revises: 0031
Create Date: 2026-12-06 18:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0033"
down_revision = "0031"
branch_labels = None
depends_on = None


def _account_columns(table: str) -> list[sa.Column]:
    return [
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("operator_id", sa.Uuid(), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=True),
    ]


def _account_constraints(table: str) -> list[sa.Constraint]:
    return [
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f(f"fk_{table}_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operators.id"],
            name=op.f(f"fk_{table}_operator_id_operators"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f(f"fk_{table}_tenant_id_tenants"), ondelete="CASCADE"
        ),
    ]


def _account_indexes(table: str) -> None:
    for column in ("user_id", "operator_id", "tenant_id"):
        op.create_index(op.f(f"ix_{table}_{column}"), table, [column])


def upgrade() -> None:
    op.create_table(
        "portal_sessions",
        *_account_columns("portal_sessions"),
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("enroll_only", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=200), nullable=True),
        *_account_constraints("portal_sessions"),
        sa.UniqueConstraint("id_hash", name=op.f("uq_portal_sessions_id_hash")),
    )
    _account_indexes("portal_sessions")
    op.create_table(
        "totp_factors",
        *_account_columns("totp_factors"),
        sa.Column("secret_sealed", sa.String(length=400), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(), nullable=True),
        sa.Column("last_step", sa.Integer(), nullable=False),
        *_account_constraints("totp_factors"),
    )
    _account_indexes("totp_factors")
    op.create_table(
        "password_reset_tokens",
        *_account_columns("password_reset_tokens"),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        *_account_constraints("password_reset_tokens"),
        sa.UniqueConstraint("token_hash", name=op.f("uq_password_reset_tokens_token_hash")),
    )
    _account_indexes("password_reset_tokens")


def downgrade() -> None:
    for table in ("password_reset_tokens", "totp_factors", "portal_sessions"):
        op.drop_table(table)
