"""Admission of calls (issue 15): link capacities, a tenant's hub, blocked calls per site and limit,
the toll-fraud guard's permissions, spend limits, spend meters and high-risk prefixes, and the
fair-use cases, reviewed cycles and NPA-NXX carrier-type table

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 12:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(18, 6).with_variant(sa.String(40), "sqlite")


def _row(name: str) -> list[sa.Column[object]]:
    return [
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    ]


def _tenant(name: str) -> list[sa.Column[object]]:
    return [
        *_row(name),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
    ]


def _tenant_fk(name: str) -> list[sa.schema.SchemaItem]:
    return [
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f(f"fk_{name}_tenant_id_tenants"), ondelete="CASCADE"
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "link_capacities",
        *_row("link_capacities"),
        sa.Column("bandwidth_kbps", sa.Integer(), nullable=False),
        sa.Column("max_calls", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_capacities")),
        sa.UniqueConstraint("bandwidth_kbps", name=op.f("uq_link_capacities_bandwidth_kbps")),
    )
    op.create_table(
        "capacity_settings",
        *_tenant("capacity_settings"),
        sa.Column("hub_site_id", sa.Uuid(), nullable=True),
        *_tenant_fk("capacity_settings"),
        sa.ForeignKeyConstraint(
            ["hub_site_id"],
            ["sites.id"],
            name=op.f("fk_capacity_settings_hub_site_id_sites"),
            ondelete="SET NULL",
        ),
        sa.UniqueConstraint("tenant_id", name=op.f("uq_capacity_settings_tenant_id")),
    )
    op.create_table(
        "capacity_blocks",
        *_tenant("capacity_blocks"),
        sa.Column("site_id", sa.Uuid(), nullable=False),
        sa.Column("limit_kind", sa.String(16), nullable=False),
        sa.Column("blocked", sa.Integer(), nullable=False),
        sa.Column("last_blocked_at", sa.DateTime(), nullable=False),
        *_tenant_fk("capacity_blocks"),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_capacity_blocks_site_id_sites"), ondelete="CASCADE"
        ),
        sa.UniqueConstraint("tenant_id", "site_id", "limit_kind", name=op.f("uq_capacity_blocks_tenant_id")),
    )
    op.create_table(
        "toll_permissions",
        *_tenant("toll_permissions"),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("international", sa.Boolean(), nullable=False),
        sa.Column("premium", sa.Boolean(), nullable=False),
        sa.Column("spend_limit", MONEY, nullable=True),
        sa.Column("max_international_calls", sa.Integer(), nullable=True),
        *_tenant_fk("toll_permissions"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_toll_permissions_user_id_users"), ondelete="CASCADE"
        ),
        sa.UniqueConstraint("tenant_id", "user_id", name=op.f("uq_toll_permissions_tenant_id")),
    )
    op.create_table(
        "high_risk_prefixes",
        *_row("high_risk_prefixes"),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("note", sa.String(200), nullable=False),
        sa.Column("rate_per_minute", MONEY, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_high_risk_prefixes")),
        sa.UniqueConstraint("prefix", name=op.f("uq_high_risk_prefixes_prefix")),
    )
    op.create_table(
        "spend_meters",
        *_tenant("spend_meters"),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("spent", MONEY, nullable=False),
        *_tenant_fk("spend_meters"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_spend_meters_user_id_users"), ondelete="CASCADE"
        ),
        sa.UniqueConstraint("tenant_id", "user_id", "month", name=op.f("uq_spend_meters_tenant_id")),
    )
    op.create_table(
        "fair_use_cases",
        *_tenant("fair_use_cases"),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("noticed_cycle", sa.String(7), nullable=False),
        sa.Column("cycles", sa.JSON(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("adjustment", MONEY, nullable=True),
        *_tenant_fk("fair_use_cases"),
        sa.UniqueConstraint("tenant_id", "kind", "subject", name=op.f("uq_fair_use_cases_tenant_id")),
    )
    op.create_table(
        "fair_use_reviews",
        *_tenant("fair_use_reviews"),
        sa.Column("cycle", sa.String(7), nullable=False),
        sa.Column("findings", sa.Integer(), nullable=False),
        *_tenant_fk("fair_use_reviews"),
        sa.UniqueConstraint("tenant_id", "cycle", name=op.f("uq_fair_use_reviews_tenant_id")),
    )
    op.create_table(
        "carrier_types",
        *_row("carrier_types"),
        sa.Column("npa_nxx", sa.String(6), nullable=False),
        sa.Column("carrier_type", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_carrier_types")),
        sa.UniqueConstraint("npa_nxx", name=op.f("uq_carrier_types_npa_nxx")),
    )
    tenant_tables = ("capacity_settings", "capacity_blocks", "toll_permissions", "spend_meters")
    for table in (*tenant_tables, "fair_use_cases", "fair_use_reviews"):
        op.create_index(op.f(f"ix_{table}_tenant_id"), table, ["tenant_id"])


def downgrade() -> None:
    for table in (
        "carrier_types",
        "fair_use_reviews",
        "fair_use_cases",
        "spend_meters",
        "high_risk_prefixes",
        "toll_permissions",
        "capacity_blocks",
        "capacity_settings",
        "link_capacities",
    ):
        op.drop_table(table)
