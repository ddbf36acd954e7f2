"""Campaigns (issue 20 §2): contact lists, contacts, consent records, the tenant's do-not-call
list, the operator's registry copies (National DNC, Reassigned Numbers), campaigns and recipients

Revision ID: 0040
Revises: 0042
Create Date: 2026-12-06 22:40:00
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0040"
down_revision = "0042"
branch_labels = None
depends_on = None


def _row(table: str) -> list[Any]:
    return [
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    ]


def _base(table: str) -> list[Any]:
    return [
        *_row(table),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f(f"fk_{table}_tenant_id_tenants"), ondelete="CASCADE"
        ),
    ]


def _tenant_index(table: str) -> None:
    op.create_index(op.f(f"ix_{table}_tenant_id"), table, ["tenant_id"])


def upgrade() -> None:
    op.create_table(
        "contact_lists",
        *_base("contact_lists"),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_contact_lists_tenant_id")),
    )
    _tenant_index("contact_lists")
    op.create_table(
        "contacts",
        *_base("contacts"),
        sa.Column("list_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=2), nullable=True),
        sa.Column("time_zones", sa.JSON(), nullable=False),
        sa.Column("location_source", sa.String(length=16), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["list_id"],
            ["contact_lists.id"],
            name=op.f("fk_contacts_list_id_contact_lists"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("list_id", "number", name=op.f("uq_contacts_list_id")),
    )
    _tenant_index("contacts")
    op.create_table(
        "consent_records",
        *_base("consent_records"),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("obtained_at", sa.DateTime(), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=120), nullable=False),
    )
    _tenant_index("consent_records")
    op.create_index(
        "ix_consent_records_lookup", "consent_records", ["tenant_id", "number", "channel", "purpose"]
    )
    op.create_table(
        "dnc_entries",
        *_base("dnc_entries"),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("added_by", sa.String(length=120), nullable=False),
        sa.UniqueConstraint("tenant_id", "number", name=op.f("uq_dnc_entries_tenant_id")),
    )
    _tenant_index("dnc_entries")
    op.create_table(
        "registry_imports",
        *_row("registry_imports"),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("imported_by", sa.String(length=120), nullable=False),
    )
    op.create_table(
        "national_dnc_numbers",
        *_row("national_dnc_numbers"),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("import_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["registry_imports.id"],
            name=op.f("fk_national_dnc_numbers_import_id_registry_imports"),
            ondelete="SET NULL",
        ),
        sa.UniqueConstraint("number", name=op.f("uq_national_dnc_numbers_number")),
    )
    op.create_table(
        "reassigned_numbers",
        *_row("reassigned_numbers"),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("disconnected_on", sa.Date(), nullable=False),
        sa.Column("import_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["registry_imports.id"],
            name=op.f("fk_reassigned_numbers_import_id_registry_imports"),
            ondelete="SET NULL",
        ),
        sa.UniqueConstraint("number", "disconnected_on", name=op.f("uq_reassigned_numbers_number")),
    )
    op.create_index(op.f("ix_reassigned_numbers_number"), "reassigned_numbers", ["number"])
    op.create_table(
        "campaigns",
        *_base("campaigns"),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("list_id", sa.Uuid(), nullable=False),
        sa.Column("from_number", sa.String(length=16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("voice_url", sa.String(length=2000), nullable=True),
        sa.Column("voice_twiml", sa.Text(), nullable=True),
        sa.Column("rate_per_s", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("scheduled_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("runner", sa.String(length=120), nullable=True),
        sa.Column("runner_until", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["list_id"],
            ["contact_lists.id"],
            name=op.f("fk_campaigns_list_id_contact_lists"),
        ),
    )
    _tenant_index("campaigns")
    op.create_table(
        "campaign_recipients",
        *_base("campaign_recipients"),
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column("contact_id", sa.Uuid(), nullable=True),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("detail", sa.String(length=300), nullable=True),
        sa.Column("not_before", sa.DateTime(), nullable=True),
        sa.Column("deferrals", sa.Integer(), nullable=False),
        sa.Column("message_sid", sa.String(length=34), nullable=True),
        sa.Column("call_sid", sa.String(length=34), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_recipients_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_campaign_recipients_contact_id_contacts"),
            ondelete="SET NULL",
        ),
        sa.UniqueConstraint("campaign_id", "number", name=op.f("uq_campaign_recipients_campaign_id")),
    )
    _tenant_index("campaign_recipients")
    op.create_index(
        "ix_campaign_recipients_work", "campaign_recipients", ["campaign_id", "status", "not_before"]
    )
    op.create_index("ix_campaign_recipients_created", "campaign_recipients", ["created_at"])


def downgrade() -> None:
    for table in (
        "campaign_recipients",
        "campaigns",
        "reassigned_numbers",
        "national_dnc_numbers",
        "registry_imports",
        "dnc_entries",
        "consent_records",
        "contacts",
        "contact_lists",
    ):
        op.drop_table(table)
