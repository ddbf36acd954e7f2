"""Flows (issue 20 §1): flows, their revisions, executions, the per-step log, numbers starting a flow

Revision ID: 0039
Revises: 0037
Create Date: 2026-12-06 22:40:00
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0039"
down_revision = "0037"
branch_labels = None
depends_on = None


def _base(table: str) -> list[Any]:
    return [
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f(f"fk_{table}_tenant_id_tenants"), ondelete="CASCADE"
        ),
    ]


def _flow_fk(table: str) -> Any:
    return sa.ForeignKeyConstraint(
        ["flow_id"], ["flows.id"], name=op.f(f"fk_{table}_flow_id_flows"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "flows",
        *_base("flows"),
        sa.Column("friendly_name", sa.String(length=200), nullable=False),
        sa.Column("draft_revision", sa.Integer(), nullable=False),
        sa.Column("published_revision", sa.Integer(), nullable=True),
    )
    op.create_index(op.f("ix_flows_tenant_id"), "flows", ["tenant_id"])
    op.create_table(
        "flow_revisions",
        *_base("flow_revisions"),
        sa.Column("flow_id", sa.Uuid(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("warnings", sa.JSON(), nullable=False),
        _flow_fk("flow_revisions"),
        sa.UniqueConstraint("flow_id", "revision", name=op.f("uq_flow_revisions_flow_id")),
    )
    op.create_index(op.f("ix_flow_revisions_tenant_id"), "flow_revisions", ["tenant_id"])
    op.create_index(op.f("ix_flow_revisions_flow_id"), "flow_revisions", ["flow_id"])
    op.create_table(
        "flow_executions",
        *_base("flow_executions"),
        sa.Column("flow_id", sa.Uuid(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("contact_address", sa.String(length=64), nullable=False),
        sa.Column("flow_address", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.String(length=300), nullable=True),
        sa.Column("current_state", sa.String(length=100), nullable=True),
        sa.Column("steps", sa.Integer(), nullable=False),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("content_erased_at", sa.DateTime(), nullable=True),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        _flow_fk("flow_executions"),
    )
    op.create_index(op.f("ix_flow_executions_tenant_id"), "flow_executions", ["tenant_id"])
    op.create_index(op.f("ix_flow_executions_flow_id"), "flow_executions", ["flow_id"])
    op.create_index("ix_flow_executions_tenant_created", "flow_executions", ["tenant_id", "created_at"])
    op.create_table(
        "flow_steps",
        *_base("flow_steps"),
        sa.Column("execution_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=100), nullable=False),
        sa.Column("widget_type", sa.String(length=40), nullable=False),
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column("next_state", sa.String(length=100), nullable=True),
        sa.Column("outputs", sa.JSON(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("content_erased_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["execution_id"],
            ["flow_executions.id"],
            name=op.f("fk_flow_steps_execution_id_flow_executions"),
            ondelete="CASCADE",
        ),
    )
    op.create_index(op.f("ix_flow_steps_tenant_id"), "flow_steps", ["tenant_id"])
    op.create_index(op.f("ix_flow_steps_execution_id"), "flow_steps", ["execution_id"])
    op.create_table(
        "flow_numbers",
        *_base("flow_numbers"),
        sa.Column("flow_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(length=16), nullable=False),
        _flow_fk("flow_numbers"),
        sa.UniqueConstraint("number", name=op.f("uq_flow_numbers_number")),
    )
    op.create_index(op.f("ix_flow_numbers_tenant_id"), "flow_numbers", ["tenant_id"])
    op.create_index(op.f("ix_flow_numbers_flow_id"), "flow_numbers", ["flow_id"])


def downgrade() -> None:
    op.drop_table("flow_numbers")
    op.drop_table("flow_steps")
    op.drop_table("flow_executions")
    op.drop_table("flow_revisions")
    op.drop_table("flows")
