"""billing: exact money on SQLite (decimal text; NUMERIC(18, 6) stays on PostgreSQL), the tax and
surcharge table, exemption certificates, billing accounts (credit limit, USF traffic study),
collection notices, bundle quantity changes, the CPaaS platform fee on the plan and the notice days
of bundle subscriptions

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 19:22:42.461517
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# store/types.py Money as the plain types it stores: SQLite keeps the decimal text (its NUMERIC is an
# 8-byte REAL, exact to 15 digits only); PostgreSQL's NUMERIC(18, 6) is exact.
MONEY = sa.Numeric(18, 6).with_variant(sa.String(40), "sqlite")

# The money columns of migration 0002, converted on SQLite only.
MONEY_COLUMNS: dict[str, tuple[tuple[str, bool], ...]] = {
    "rate_deck_rows": (("rate_per_minute", False), ("connection_fee", False)),
    "billing_plans": (
        ("overage_per_minute", False),
        ("local_per_minute", False),
        ("directory_assistance_per_call", False),
        ("conference_per_minute", False),
        ("seat_monthly", False),
    ),
    "billing_plan_features": (("monthly_price", False),),
    "bundle_subscriptions": (("rate", False), ("next_rate", True)),
    "rating_runs": (("total", False),),
    "invoices": (("subtotal", False), ("taxes_and_surcharges", False), ("total", False)),
    "invoice_lines": (("quantity", False), ("unit_price", True), ("amount", False)),
    "credit_notes": (("amount", False),),
    "payments": (("amount", False),),
    "disputes": (("amount", False),),
}


def _convert_money(to_text: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    old, new = (sa.Numeric(18, 6), sa.String(40)) if to_text else (sa.String(40), sa.Numeric(18, 6))
    for table, columns in MONEY_COLUMNS.items():
        with op.batch_alter_table(table) as batch_op:
            for column, nullable in columns:
                batch_op.alter_column(column, existing_type=old, type_=new, existing_nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "tax_rates",
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("basis", sa.String(length=32), nullable=False),
        sa.Column("jurisdiction", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("rate", MONEY, nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("effective_to", sa.Date(), nullable=True),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tax_rates")),
    )
    with op.batch_alter_table("tax_rates", schema=None) as batch_op:
        batch_op.create_index("ix_tax_rates_kind_from", ["kind", "effective_from"], unique=False)

    op.create_table(
        "billing_accounts",
        sa.Column("credit_limit", MONEY, nullable=True),
        sa.Column("over_limit_since", sa.Date(), nullable=True),
        sa.Column("interstate_share", MONEY, nullable=True),
        sa.Column("traffic_study", sa.String(length=300), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_billing_accounts_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_accounts")),
        sa.UniqueConstraint("tenant_id", name=op.f("uq_billing_accounts_tenant_id")),
    )
    with op.batch_alter_table("billing_accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_billing_accounts_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "collection_notices",
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("noticed_on", sa.Date(), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("detail", sa.String(length=1000), nullable=False),
        sa.Column("invoice_ids", sa.JSON(), nullable=False),
        sa.Column("suspend_from", sa.Date(), nullable=True),
        sa.Column("suspended_on", sa.Date(), nullable=True),
        sa.Column("resolved_on", sa.Date(), nullable=True),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_collection_notices_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collection_notices")),
    )
    with op.batch_alter_table("collection_notices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_collection_notices_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "tax_exemption_certificates",
        sa.Column("number", sa.String(length=100), nullable=False),
        sa.Column("jurisdiction", sa.String(length=64), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("exempt_kinds", sa.JSON(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_tax_exemption_certificates_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tax_exemption_certificates")),
        sa.UniqueConstraint(
            "tenant_id", "number", "jurisdiction", name=op.f("uq_tax_exemption_certificates_tenant_id")
        ),
    )
    with op.batch_alter_table("tax_exemption_certificates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_tax_exemption_certificates_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "bundle_quantity_changes",
        sa.Column("subscription_id", sa.Uuid(), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("old_quantity", sa.Integer(), nullable=False),
        sa.Column("new_quantity", sa.Integer(), nullable=False),
        sa.Column("exception", sa.String(length=64), nullable=True),
        sa.Column("prorated_amount", MONEY, nullable=True),
        sa.Column("prorated_description", sa.String(length=300), nullable=False),
        sa.Column("prorated_unit_price", MONEY, nullable=True),
        sa.Column("period_start", sa.Date(), nullable=True),
        sa.Column("period_end", sa.Date(), nullable=True),
        sa.Column("billed_invoice_id", sa.Uuid(), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["billed_invoice_id"],
            ["invoices.id"],
            name=op.f("fk_bundle_quantity_changes_billed_invoice_id_invoices"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["bundle_subscriptions.id"],
            name=op.f("fk_bundle_quantity_changes_subscription_id_bundle_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_bundle_quantity_changes_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bundle_quantity_changes")),
    )
    with op.batch_alter_table("bundle_quantity_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bundle_quantity_changes_tenant_id"), ["tenant_id"], unique=False)
    with op.batch_alter_table("billing_plans") as batch_op:
        batch_op.add_column(sa.Column("platform_fee_monthly", MONEY, nullable=True))
        batch_op.add_column(sa.Column("platform_fee_accepted_on", sa.Date(), nullable=True))
    with op.batch_alter_table("bundle_subscriptions") as batch_op:
        batch_op.add_column(sa.Column("termination_noticed_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("rate_increase_noticed_on", sa.Date(), nullable=True))
    _convert_money(to_text=True)


def downgrade() -> None:
    _convert_money(to_text=False)
    with op.batch_alter_table("bundle_subscriptions") as batch_op:
        batch_op.drop_column("rate_increase_noticed_on")
        batch_op.drop_column("termination_noticed_on")
    with op.batch_alter_table("billing_plans") as batch_op:
        batch_op.drop_column("platform_fee_accepted_on")
        batch_op.drop_column("platform_fee_monthly")
    for table in (
        "bundle_quantity_changes",
        "tax_exemption_certificates",
        "collection_notices",
        "billing_accounts",
        "tax_rates",
    ):
        op.drop_table(table)
