"""Flows: allow_concurrent_calls enforced — flow_executions.one_per_contact and the unique partial
index that lets a contact have one such execution of a flow active at a time

Revision ID: 0045
Revises: 0043
Create Date: 2026-12-07 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0045"
down_revision = "0043"
branch_labels = None
depends_on = None

ONE_ACTIVE = "status = 'active' AND one_per_contact"


def upgrade() -> None:
    with op.batch_alter_table("flow_executions") as batch:
        batch.add_column(
            sa.Column("one_per_contact", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.create_index(
        "uq_flow_executions_active_contact",
        "flow_executions",
        ["tenant_id", "flow_id", "contact_address"],
        unique=True,
        sqlite_where=sa.text(ONE_ACTIVE),
        postgresql_where=sa.text(ONE_ACTIVE),
    )


def downgrade() -> None:
    op.drop_index("uq_flow_executions_active_contact", table_name="flow_executions")
    with op.batch_alter_table("flow_executions") as batch:
        batch.drop_column("one_per_contact")
