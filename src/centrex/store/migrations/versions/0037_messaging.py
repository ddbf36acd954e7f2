"""Messaging (issue 16 §4): messages, carrier ids of their parts, consent per number pair, A2P
registrations and numbers' SMS URLs

Revision ID: 0037
Revises: 0035
Create Date: 2026-12-06 19:10:00
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0037"
down_revision = "0035"
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


def upgrade() -> None:
    op.create_table(
        "sms_messages",
        *_base("sms_messages"),
        sa.Column("sid", sa.String(length=34), nullable=False),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("from_number", sa.String(length=16), nullable=False),
        sa.Column("to_number", sa.String(length=16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("body_erased_at", sa.DateTime(), nullable=True),
        sa.Column("segments", sa.Integer(), nullable=False),
        sa.Column("encoding", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.Column("error_message", sa.String(length=300), nullable=True),
        sa.Column("price", sa.Numeric(18, 6).with_variant(sa.String(40), "sqlite"), nullable=True),
        sa.Column("price_unit", sa.String(length=3), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("status_callback", sa.String(length=2000), nullable=True),
        sa.Column("parts_done", sa.Integer(), nullable=False),
        sa.Column("parts_failed", sa.Integer(), nullable=False),
        sa.Column("date_sent", sa.DateTime(), nullable=True),
        sa.UniqueConstraint("sid", name=op.f("uq_sms_messages_sid")),
    )
    op.create_index(op.f("ix_sms_messages_tenant_id"), "sms_messages", ["tenant_id"])
    op.create_index("ix_sms_messages_tenant_created", "sms_messages", ["tenant_id", "created_at"])
    op.create_table(
        "sms_carrier_ids",
        *_base("sms_carrier_ids"),
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("carrier_id", sa.String(length=65), nullable=False),
        sa.Column("part", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["sms_messages.id"],
            name=op.f("fk_sms_carrier_ids_message_id_sms_messages"),
            ondelete="CASCADE",
        ),
    )
    op.create_index(op.f("ix_sms_carrier_ids_tenant_id"), "sms_carrier_ids", ["tenant_id"])
    op.create_index("ix_sms_carrier_ids_carrier_id", "sms_carrier_ids", ["carrier_id"])
    op.create_table(
        "sms_consents",
        *_base("sms_consents"),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("remote", sa.String(length=16), nullable=False),
        sa.Column("opted_out", sa.Boolean(), nullable=False),
        sa.Column("keyword", sa.String(length=32), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=True),
        sa.UniqueConstraint("tenant_id", "number", "remote", name=op.f("uq_sms_consents_tenant_id")),
    )
    op.create_index(op.f("ix_sms_consents_tenant_id"), "sms_consents", ["tenant_id"])
    op.create_table(
        "a2p_registrations",
        *_base("a2p_registrations"),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("brand_name", sa.String(length=200), nullable=False),
        sa.Column("brand_ein", sa.String(length=20), nullable=False),
        sa.Column("campaign_id", sa.String(length=40), nullable=False),
        sa.Column("use_case", sa.String(length=40), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("numbers", sa.JSON(), nullable=False),
        sa.Column("rejection_reason", sa.String(length=300), nullable=False),
    )
    op.create_index(op.f("ix_a2p_registrations_tenant_id"), "a2p_registrations", ["tenant_id"])
    op.create_table(
        "sms_number_configs",
        *_base("sms_number_configs"),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("sms_url", sa.String(length=2000), nullable=True),
        sa.Column("sms_method", sa.String(length=8), nullable=False),
        sa.Column("status_callback", sa.String(length=2000), nullable=True),
        sa.UniqueConstraint("number", name=op.f("uq_sms_number_configs_number")),
    )
    op.create_index(op.f("ix_sms_number_configs_tenant_id"), "sms_number_configs", ["tenant_id"])


def downgrade() -> None:
    for table in (
        "sms_number_configs",
        "a2p_registrations",
        "sms_consents",
        "sms_carrier_ids",
        "sms_messages",
    ):
        op.drop_table(table)
