"""Alarms, trouble tickets and their notification outbox (issue 19 part 2; ops/alarms.py)

Revision ID: 0022
Revises: 0019
Create Date: 2026-12-06 15:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def _row() -> list[sa.Column[object]]:
    return [
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    ]


def _clock() -> list[sa.Column[object]]:
    return [
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(), nullable=True),
        sa.Column("acknowledged_by", sa.String(200), nullable=True),
        sa.Column("escalated_at", sa.DateTime(), nullable=True),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "alarms",
        *_row(),
        *_clock(),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("open_key", sa.String(200), nullable=True),
        sa.Column("component", sa.String(40), nullable=False),
        sa.Column("summary", sa.String(500), nullable=False),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=True),
        sa.Column("service_affecting", sa.Boolean(), nullable=False),
        sa.Column("raised_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("occurrences", sa.Integer(), nullable=False),
        sa.Column("cleared_at", sa.DateTime(), nullable=True),
        sa.Column("cleared_by", sa.String(200), nullable=True),
        sa.Column("outages_recorded", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alarms")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_alarms_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.UniqueConstraint("open_key", name=op.f("uq_alarms_open_key")),
    )
    op.create_index(op.f("ix_alarms_key"), "alarms", ["key"])
    op.create_index(op.f("ix_alarms_due_at"), "alarms", ["due_at"])
    op.create_index(op.f("ix_alarms_tenant_id"), "alarms", ["tenant_id"])
    op.create_index(op.f("ix_alarms_raised_at"), "alarms", ["raised_at"])
    op.create_table(
        "tickets",
        *_row(),
        *_clock(),
        sa.Column("tenant_id", sa.Uuid(), nullable=True),
        sa.Column("alarm_id", sa.Uuid(), nullable=True),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("opened_by", sa.String(200), nullable=False),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tickets")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_tickets_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["alarm_id"], ["alarms.id"], name=op.f("fk_tickets_alarm_id_alarms"), ondelete="SET NULL"
        ),
    )
    op.create_index(op.f("ix_tickets_due_at"), "tickets", ["due_at"])
    op.create_index(op.f("ix_tickets_tenant_id"), "tickets", ["tenant_id"])
    op.create_index(op.f("ix_tickets_alarm_id"), "tickets", ["alarm_id"])
    op.create_index(op.f("ix_tickets_opened_at"), "tickets", ["opened_at"])
    op.create_table(
        "alarm_notifications",
        *_row(),
        sa.Column("alarm_id", sa.Uuid(), nullable=True),
        sa.Column("ticket_id", sa.Uuid(), nullable=True),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("address", sa.String(500), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_try_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("detail", sa.String(500), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alarm_notifications")),
        sa.ForeignKeyConstraint(
            ["alarm_id"],
            ["alarms.id"],
            name=op.f("fk_alarm_notifications_alarm_id_alarms"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_alarm_notifications_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
    )
    op.create_index(op.f("ix_alarm_notifications_alarm_id"), "alarm_notifications", ["alarm_id"])
    op.create_index(op.f("ix_alarm_notifications_ticket_id"), "alarm_notifications", ["ticket_id"])
    op.create_index(op.f("ix_alarm_notifications_status"), "alarm_notifications", ["status"])


def downgrade() -> None:
    op.drop_table("alarm_notifications")
    op.drop_table("tickets")
    op.drop_table("alarms")
