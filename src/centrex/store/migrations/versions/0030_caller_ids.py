"""Verified caller IDs (issue 17 §5): numbers a tenant may send without owning them

Revision ID: 0030
Revises: 0026
Create Date: 2026-12-06 16:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "verified_caller_ids",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("e164", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("verified_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verified_caller_ids")),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_verified_caller_ids_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("tenant_id", "e164", name=op.f("uq_verified_caller_ids_tenant_id")),
    )
    op.create_index(op.f("ix_verified_caller_ids_tenant_id"), "verified_caller_ids", ["tenant_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_verified_caller_ids_tenant_id"), table_name="verified_caller_ids")
    op.drop_table("verified_caller_ids")
