"""Calls that always end and always bill (issue 13 §3): the switch nodes' heartbeats, which node
holds each journalled call, its direction and dialogs (a restart sends BYE on each), and the
tenant's longest call

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 12:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def _journal_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("node_id", sa.Uuid(), nullable=True),
        sa.Column("direction", sa.String(16), nullable=True),
        sa.Column("dialogs", sa.JSON(), nullable=True),
    ]


def upgrade() -> None:
    op.create_table(
        "switch_nodes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("alive_at", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_switch_nodes")),
    )
    op.create_index(op.f("ix_switch_nodes_alive_at"), "switch_nodes", ["alive_at"])
    for column in _journal_columns():
        op.add_column("active_calls", column)
    op.create_index(op.f("ix_active_calls_node_id"), "active_calls", ["node_id"])
    # Plain ADD COLUMN as in 0013/0014: a SQLite batch copy of `tenants` would cascade into its children.
    op.add_column("tenants", sa.Column("max_call_s", sa.Integer(), server_default="14400", nullable=False))


def downgrade() -> None:
    op.execute("ALTER TABLE tenants DROP COLUMN max_call_s")
    op.drop_index(op.f("ix_active_calls_node_id"), table_name="active_calls")
    for column in reversed(_journal_columns()):
        op.execute(f"ALTER TABLE active_calls DROP COLUMN {column.name}")
    op.drop_index(op.f("ix_switch_nodes_alive_at"), table_name="switch_nodes")
    op.drop_table("switch_nodes")
