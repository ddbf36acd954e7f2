"""Owned call state across nodes (issue 19 §5): park slots, queues, conference rooms

Revision ID: 0031
Revises: 0026
Create Date: 2026-12-06 16:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "owned_state",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("node_id", sa.Uuid(), nullable=False),
        sa.Column("address", sa.String(length=255), nullable=False),
        sa.Column("since", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_owned_state")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_owned_state_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.UniqueConstraint("tenant_id", "kind", "key", name=op.f("uq_owned_state_tenant_id")),
    )
    op.create_index(op.f("ix_owned_state_tenant_id"), "owned_state", ["tenant_id"])
    op.create_index(op.f("ix_owned_state_node_id"), "owned_state", ["node_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_owned_state_node_id"), table_name="owned_state")
    op.drop_index(op.f("ix_owned_state_tenant_id"), table_name="owned_state")
    op.drop_table("owned_state")
