"""CPaaS gaps (issue 16): a lane for the webhook outbox's deliveries (a call's status callbacks
leave one at a time in SequenceNumber order)

Revision ID: 0042
Revises: 0037
Create Date: 2026-12-06 22:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0042"
down_revision = "0037"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.add_column(sa.Column("lane", sa.String(length=200), nullable=True))
        batch.create_index(batch.f("ix_webhook_deliveries_lane"), ["lane"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.drop_index(batch.f("ix_webhook_deliveries_lane"))
        batch.drop_column("lane")
