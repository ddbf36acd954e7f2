"""Insights (issue 20 §3): aggregates in three tiers, saved dashboards, alert rules and firings

Revision ID: 0041
Revises: 0040
Create Date: 2026-12-06 22:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0041"
down_revision = "0040"
branch_labels = None
depends_on = None


def _common(table: str) -> list[sa.schema.SchemaItem]:
    return [
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f(f"fk_{table}_tenant_id_tenants"), ondelete="CASCADE"
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "insights_aggregates",
        *_common("insights_aggregates"),
        sa.Column("tier", sa.String(length=8), nullable=False),
        sa.Column("bucket_start", sa.DateTime(), nullable=False),
        sa.Column("metric", sa.String(length=48), nullable=False),
        sa.Column("site", sa.String(length=36), nullable=False),
        sa.Column("party_from", sa.String(length=64), nullable=False),
        sa.Column("party_to", sa.String(length=64), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.UniqueConstraint(
            "tenant_id",
            "tier",
            "bucket_start",
            "metric",
            "site",
            "party_from",
            "party_to",
            name="uq_insights_aggregates_key",
        ),
    )
    op.create_index(op.f("ix_insights_aggregates_tenant_id"), "insights_aggregates", ["tenant_id"])
    op.create_index("ix_insights_aggregates_tier_bucket", "insights_aggregates", ["tier", "bucket_start"])
    op.create_table(
        "insights_dashboards",
        *_common("insights_dashboards"),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("tier", sa.String(length=8), nullable=False),
        sa.Column("range_hours", sa.Integer(), nullable=False),
        sa.Column("site", sa.String(length=36), nullable=False),
        sa.Column("party", sa.String(length=64), nullable=False),
    )
    op.create_index(op.f("ix_insights_dashboards_tenant_id"), "insights_dashboards", ["tenant_id"])
    op.create_table(
        "insights_alert_rules",
        *_common("insights_alert_rules"),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("metric", sa.String(length=48), nullable=False),
        sa.Column("value", sa.String(length=8), nullable=False),
        sa.Column("window_minutes", sa.Integer(), nullable=False),
        sa.Column("op", sa.String(length=2), nullable=False),
        sa.Column("threshold", sa.Numeric(precision=18, scale=3), nullable=False),
        sa.Column("event_type", sa.String(length=48), nullable=False),
        sa.Column("field", sa.String(length=48), nullable=False),
        sa.Column("site", sa.String(length=36), nullable=False),
        sa.Column("party", sa.String(length=64), nullable=False),
        sa.Column("notify_user_ids", sa.JSON(), nullable=False),
        sa.Column("notify_webhook", sa.Boolean(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("firing", sa.Boolean(), nullable=False),
        sa.Column("last_value", sa.String(length=200), nullable=True),
        sa.Column("last_fired_at", sa.DateTime(), nullable=True),
    )
    op.create_index(op.f("ix_insights_alert_rules_tenant_id"), "insights_alert_rules", ["tenant_id"])
    op.create_table(
        "insights_alert_firings",
        *_common("insights_alert_firings"),
        sa.Column("rule_id", sa.Uuid(), nullable=False),
        sa.Column("fired_at", sa.DateTime(), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("previous", sa.String(length=200), nullable=True),
        sa.Column("message", sa.String(length=500), nullable=False),
        sa.Column("emailed", sa.Integer(), nullable=False),
        sa.Column("email_detail", sa.String(length=500), nullable=False),
        sa.Column("webhook", sa.Boolean(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["insights_alert_rules.id"],
            name=op.f("fk_insights_alert_firings_rule_id_insights_alert_rules"),
            ondelete="CASCADE",
        ),
    )
    op.create_index(op.f("ix_insights_alert_firings_tenant_id"), "insights_alert_firings", ["tenant_id"])
    op.create_index(op.f("ix_insights_alert_firings_rule_id"), "insights_alert_firings", ["rule_id"])


def downgrade() -> None:
    op.drop_table("insights_alert_firings")
    op.drop_table("insights_alert_rules")
    op.drop_table("insights_dashboards")
    op.drop_table("insights_aggregates")
