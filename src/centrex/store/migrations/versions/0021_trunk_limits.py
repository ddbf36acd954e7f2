"""Issue 15: per-trunk call and calls-per-second limits, a trunk's originating location
(voip-service-guide.txt §V.9), and toll-fraud spikes

Revision ID: 0021
Revises: 0019
Create Date: 2026-12-06 15:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("trunks") as batch:
        batch.add_column(sa.Column("max_calls", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("max_cps", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("site_id", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("origin_npa_nxx", sa.String(6), nullable=True))
        batch.add_column(sa.Column("origin_state", sa.String(2), nullable=True))
        batch.create_foreign_key(
            op.f("fk_trunks_site_id_sites"), "sites", ["site_id"], ["id"], ondelete="SET NULL"
        )
    op.create_table(
        "fraud_spikes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("window_start", sa.DateTime(), nullable=False),
        sa.Column("window_end", sa.DateTime(), nullable=False),
        sa.Column("classes", sa.String(64), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.Column("baseline_minutes", sa.Integer(), nullable=False),
        sa.Column("top_destination", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fraud_spikes")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_fraud_spikes_tenant_id_tenants"), ondelete="CASCADE"
        ),
    )
    op.create_index(op.f("ix_fraud_spikes_tenant_id"), "fraud_spikes", ["tenant_id"])
    op.create_index("ix_fraud_spikes_tenant_window", "fraud_spikes", ["tenant_id", "window_end"])


def downgrade() -> None:
    op.drop_index("ix_fraud_spikes_tenant_window", table_name="fraud_spikes")
    op.drop_index(op.f("ix_fraud_spikes_tenant_id"), table_name="fraud_spikes")
    op.drop_table("fraud_spikes")
    with op.batch_alter_table("trunks") as batch:
        batch.drop_constraint(op.f("fk_trunks_site_id_sites"), type_="foreignkey")
        for column in ("origin_state", "origin_npa_nxx", "site_id", "max_cps", "max_calls"):
            batch.drop_column(column)
