"""tenants: the tenant's dial plan (issue 6 point 1) - extension length, outside-line prefix,
7- and 10-digit local dialling; existing tenants get the defaults (4, "9", yes, yes)

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-27 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


# Plain ADD/DROP COLUMN, not batch mode: on SQLite a batch copy would drop and recreate `tenants`,
# and with foreign keys on, dropping it cascades into every table that references a tenant.
def _columns() -> list[sa.Column[object]]:
    return [
        sa.Column("dial_extension_length", sa.Integer(), server_default="4", nullable=False),
        sa.Column("dial_outside_prefix", sa.String(length=1), server_default="9", nullable=True),
        sa.Column("dial_seven_digit", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("dial_ten_digit", sa.Boolean(), server_default=sa.true(), nullable=False),
    ]


def upgrade() -> None:
    for column in _columns():
        op.add_column("tenants", column)


def downgrade() -> None:
    for column in reversed(_columns()):
        # SQLite 3.35+ drops a column in place (ALTER TABLE ... DROP COLUMN).
        op.execute(f"ALTER TABLE tenants DROP COLUMN {column.name}")
