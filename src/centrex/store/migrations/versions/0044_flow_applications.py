"""Flows on calls (issue 20 §1): an application may run a flow instead of a voice URL

Revision ID: 0044
Revises: 0039
Create Date: 2026-12-06 22:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0044"
down_revision = "0039"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cpaas_applications") as batch:
        batch.add_column(sa.Column("flow_id", sa.Uuid(), nullable=True))
        batch.create_index(batch.f("ix_cpaas_applications_flow_id"), ["flow_id"], unique=False)
        batch.create_foreign_key(
            batch.f("fk_cpaas_applications_flow_id_flows"), "flows", ["flow_id"], ["id"], ondelete="SET NULL"
        )


def downgrade() -> None:
    with op.batch_alter_table("cpaas_applications") as batch:
        batch.drop_constraint(batch.f("fk_cpaas_applications_flow_id_flows"), type_="foreignkey")
        batch.drop_index(batch.f("ix_cpaas_applications_flow_id"))
        batch.drop_column("flow_id")
