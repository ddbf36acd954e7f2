"""bans (issue 13 point 4): the brute-force bans that were started (kept across restarts and seen by
every node), the operator's allowlist of networks never banned, and service_keys (the SIP digest
nonce key, so a nonce issued before a restart is still recognized after it)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 12:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def _row_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "bans",
        sa.Column("realm", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("until", sa.DateTime(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_username", sa.String(length=200), nullable=True),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("lifted_by", sa.String(length=200), nullable=True),
        *_row_columns(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bans")),
    )
    op.create_index("ix_bans_active", "bans", ["ended_at", "until"], unique=False)
    op.create_index(op.f("ix_bans_source"), "bans", ["source"], unique=False)
    op.create_table(
        "ban_allowlist",
        sa.Column("network", sa.String(length=64), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        *_row_columns(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ban_allowlist")),
        sa.UniqueConstraint("network", name=op.f("uq_ban_allowlist_network")),
    )
    op.create_table(
        "service_keys",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_service_keys")),
    )


def downgrade() -> None:
    op.drop_table("service_keys")
    op.drop_table("ban_allowlist")
    op.drop_index(op.f("ix_bans_source"), table_name="bans")
    op.drop_index("ix_bans_active", table_name="bans")
    op.drop_table("bans")
