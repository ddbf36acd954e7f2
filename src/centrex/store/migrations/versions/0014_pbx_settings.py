"""PBX settings (issue 4 points 1, 4 and 6): the tenant's own feature codes, direct media between
phones of one site, the park timeout; how often a queue tells a waiting caller its position

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-27 22:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


# Plain ADD/DROP COLUMN as in 0013: a SQLite batch copy of `tenants` would cascade into its children.
def _tenant_columns() -> list[sa.Column[object]]:
    return [
        # {"park": "*70", ...}: only the codes the tenant changed; NULL = every default.
        sa.Column("feature_codes", sa.JSON(), nullable=True),
        sa.Column("direct_media", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("park_timeout_s", sa.Integer(), server_default="120", nullable=False),
    ]


def _queue_columns() -> list[sa.Column[object]]:
    # 0 = never announce the position.
    return [sa.Column("announce_position_s", sa.Integer(), server_default="30", nullable=False)]


def upgrade() -> None:
    for column in _tenant_columns():
        op.add_column("tenants", column)
    for column in _queue_columns():
        op.add_column("call_queues", column)


def downgrade() -> None:
    for column in reversed(_queue_columns()):
        op.execute(f"ALTER TABLE call_queues DROP COLUMN {column.name}")
    for column in reversed(_tenant_columns()):
        op.execute(f"ALTER TABLE tenants DROP COLUMN {column.name}")
