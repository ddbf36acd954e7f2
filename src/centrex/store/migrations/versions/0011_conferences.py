"""conferences: conference_bridges (issue 4 point 6) - a tenant's meeting rooms with a number
unique in the tenant, optional PIN and moderator PIN (argon2 hashes), maximum parties and whether
joins and leaves are announced

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conference_bridges",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("extension", sa.String(length=6), nullable=False),
        sa.Column("pin_hash", sa.String(length=200), nullable=True),
        sa.Column("moderator_pin_hash", sa.String(length=200), nullable=True),
        sa.Column("max_parties", sa.Integer(), nullable=False),
        sa.Column("announce", sa.Boolean(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_conference_bridges_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conference_bridges")),
        sa.UniqueConstraint("tenant_id", "extension", name="uq_conference_bridges_extension"),
    )
    with op.batch_alter_table("conference_bridges", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_conference_bridges_tenant_id"), ["tenant_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("conference_bridges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conference_bridges_tenant_id"))
    op.drop_table("conference_bridges")
