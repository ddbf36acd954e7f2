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


def upgrade() -> None:
    with op.batch_alter_table("tenants") as batch_op:
        batch_op.add_column(
            sa.Column("dial_extension_length", sa.Integer(), server_default="4", nullable=False)
        )
        batch_op.add_column(
            sa.Column("dial_outside_prefix", sa.String(length=1), server_default="9", nullable=True)
        )
        batch_op.add_column(
            sa.Column("dial_seven_digit", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("dial_ten_digit", sa.Boolean(), server_default=sa.true(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("tenants") as batch_op:
        batch_op.drop_column("dial_ten_digit")
        batch_op.drop_column("dial_seven_digit")
        batch_op.drop_column("dial_outside_prefix")
        batch_op.drop_column("dial_extension_length")
