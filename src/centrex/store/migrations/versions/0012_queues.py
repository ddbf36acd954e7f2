"""queues: call_queues (issue 4 point 4) with an extension unique per tenant, max wait, wrap-up,
agent ring time and overflow destination; queue_agents (members in order, logged in or not);
queue_events (entered, answered, abandoned, overflowed, agent_login, agent_logout), indexed for
time-range statistics

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "call_queues",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("extension", sa.String(length=8), nullable=False),
        sa.Column("max_wait_s", sa.Integer(), nullable=False),
        sa.Column("wrap_up_s", sa.Integer(), nullable=False),
        sa.Column("agent_ring_s", sa.Integer(), nullable=False),
        sa.Column("overflow_destination", sa.String(length=32), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_call_queues_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_queues")),
        sa.UniqueConstraint("tenant_id", "extension", name=op.f("uq_call_queues_tenant_id")),
    )
    with op.batch_alter_table("call_queues", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_call_queues_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "queue_agents",
        sa.Column("queue_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("logged_in", sa.Boolean(), nullable=False),
        sa.Column("logged_in_at", sa.DateTime(), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["queue_id"],
            ["call_queues.id"],
            name=op.f("fk_queue_agents_queue_id_call_queues"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_queue_agents_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_queue_agents_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_agents")),
        sa.UniqueConstraint("queue_id", "user_id", name=op.f("uq_queue_agents_queue_id")),
    )
    with op.batch_alter_table("queue_agents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_queue_agents_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "queue_events",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("queue_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("call_id", sa.Uuid(), nullable=True),
        sa.Column("agent_id", sa.Uuid(), nullable=True),
        sa.Column("wait_ms", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["queue_id"],
            ["call_queues.id"],
            name=op.f("fk_queue_events_queue_id_call_queues"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_queue_events_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_events")),
    )
    with op.batch_alter_table("queue_events", schema=None) as batch_op:
        batch_op.create_index("ix_queue_events_range", ["tenant_id", "queue_id", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("queue_events", schema=None) as batch_op:
        batch_op.drop_index("ix_queue_events_range")
    op.drop_table("queue_events")
    with op.batch_alter_table("queue_agents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_queue_agents_tenant_id"))
    op.drop_table("queue_agents")
    with op.batch_alter_table("call_queues", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_call_queues_tenant_id"))
    op.drop_table("call_queues")
