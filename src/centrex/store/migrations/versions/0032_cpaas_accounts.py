"""CPaaS accounts (issue 16 §2): a tenant's account SID and sealed auth token

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-06 18:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cpaas_accounts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("sid", sa.String(length=34), nullable=False),
        sa.Column("auth_token_sealed", sa.String(length=400), nullable=False),
        sa.Column("friendly_name", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cpaas_accounts")),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_cpaas_accounts_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("tenant_id", name=op.f("uq_cpaas_accounts_tenant_id")),
        sa.UniqueConstraint("sid", name=op.f("uq_cpaas_accounts_sid")),
    )
    op.create_index(op.f("ix_cpaas_accounts_tenant_id"), "cpaas_accounts", ["tenant_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_cpaas_accounts_tenant_id"), table_name="cpaas_accounts")
    op.drop_table("cpaas_accounts")
