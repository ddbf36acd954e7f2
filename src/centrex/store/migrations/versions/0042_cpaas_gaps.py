"""CPaaS gaps (issue 16): a lane for the webhook outbox's deliveries (a call's status callbacks
leave one at a time in SequenceNumber order), and per-account pacing of API calls shared by the
nodes (cpaas_call_pacing), messages refused for want of consent counted by the fair-use review
(sms_refusals, cpaas.txt §2.5)

Revision ID: 0042
Revises: 0044
Create Date: 2026-12-06 22:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0042"
down_revision = "0044"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cpaas_call_pacing",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("next_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cpaas_call_pacing")),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_cpaas_call_pacing_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("tenant_id", name="uq_cpaas_call_pacing_tenant_id"),
    )
    op.create_index(op.f("ix_cpaas_call_pacing_tenant_id"), "cpaas_call_pacing", ["tenant_id"], unique=False)
    op.create_table(
        "sms_refusals",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("from_number", sa.String(length=16), nullable=False),
        sa.Column("to_number", sa.String(length=16), nullable=False),
        sa.Column("code", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_refusals")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_sms_refusals_tenant_id_tenants"), ondelete="CASCADE"
        ),
    )
    op.create_index(op.f("ix_sms_refusals_tenant_id"), "sms_refusals", ["tenant_id"], unique=False)
    op.create_index("ix_sms_refusals_tenant_at", "sms_refusals", ["tenant_id", "at"], unique=False)
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.add_column(sa.Column("lane", sa.String(length=200), nullable=True))
        batch.create_index(batch.f("ix_webhook_deliveries_lane"), ["lane"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_sms_refusals_tenant_at", table_name="sms_refusals")
    op.drop_index(op.f("ix_sms_refusals_tenant_id"), table_name="sms_refusals")
    op.drop_table("sms_refusals")
    op.drop_index(op.f("ix_cpaas_call_pacing_tenant_id"), table_name="cpaas_call_pacing")
    op.drop_table("cpaas_call_pacing")
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.drop_index(batch.f("ix_webhook_deliveries_lane"))
        batch.drop_column("lane")
