"""Programmable voice (issue 16 §1): applications, the calls they run, their log and recordings

Revision ID: 0035
Revises: 0032
Create Date: 2026-12-06 18:54:32.873574
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0035"
down_revision = "0032"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cpaas_applications",
        sa.Column("sid", sa.String(length=34), nullable=False),
        sa.Column("friendly_name", sa.String(length=100), nullable=False),
        sa.Column("voice_url", sa.String(length=1000), nullable=True),
        sa.Column("voice_method", sa.String(length=8), nullable=False),
        sa.Column("voice_fallback_url", sa.String(length=1000), nullable=True),
        sa.Column("voice_fallback_method", sa.String(length=8), nullable=False),
        sa.Column("status_callback", sa.String(length=1000), nullable=True),
        sa.Column("status_callback_method", sa.String(length=8), nullable=False),
        sa.Column("document", sa.Text(), nullable=True),
        sa.Column("extension", sa.String(length=8), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_cpaas_applications_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cpaas_applications")),
        sa.UniqueConstraint("sid", name=op.f("uq_cpaas_applications_sid")),
        sa.UniqueConstraint("tenant_id", "extension", name=op.f("uq_cpaas_applications_tenant_id")),
    )
    with op.batch_alter_table("cpaas_applications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cpaas_applications_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "cpaas_calls",
        sa.Column("sid", sa.String(length=34), nullable=False),
        sa.Column("account_sid", sa.String(length=34), nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=True),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("from_number", sa.String(length=128), nullable=False),
        sa.Column("to_number", sa.String(length=128), nullable=False),
        sa.Column("caller_name", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("start_time", sa.DateTime(), nullable=False),
        sa.Column("answer_time", sa.DateTime(), nullable=True),
        sa.Column("end_time", sa.DateTime(), nullable=True),
        sa.Column("duration_s", sa.Integer(), nullable=True),
        sa.Column("parent_call_sid", sa.String(length=34), nullable=True),
        sa.Column("answered_by", sa.String(length=32), nullable=True),
        sa.Column("switch_call_id", sa.String(length=64), nullable=True),
        sa.Column("url", sa.String(length=1000), nullable=True),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("fallback_url", sa.String(length=1000), nullable=True),
        sa.Column("fallback_method", sa.String(length=8), nullable=False),
        sa.Column("status_callback", sa.String(length=1000), nullable=True),
        sa.Column("status_callback_method", sa.String(length=8), nullable=False),
        sa.Column("status_callback_event", sa.String(length=64), nullable=False),
        sa.Column("sequence_number", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["cpaas_applications.id"],
            name=op.f("fk_cpaas_calls_application_id_cpaas_applications"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_cpaas_calls_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cpaas_calls")),
        sa.UniqueConstraint("sid", name=op.f("uq_cpaas_calls_sid")),
    )
    with op.batch_alter_table("cpaas_calls", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cpaas_calls_parent_call_sid"), ["parent_call_sid"], unique=False)
        batch_op.create_index(batch_op.f("ix_cpaas_calls_switch_call_id"), ["switch_call_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_cpaas_calls_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index("ix_cpaas_calls_tenant_started", ["tenant_id", "start_time"], unique=False)

    op.create_table(
        "cpaas_call_notices",
        sa.Column("call_id", sa.Uuid(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("code", sa.Integer(), nullable=True),
        sa.Column("message", sa.String(length=1000), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["cpaas_calls.id"],
            name=op.f("fk_cpaas_call_notices_call_id_cpaas_calls"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_cpaas_call_notices_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cpaas_call_notices")),
    )
    with op.batch_alter_table("cpaas_call_notices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cpaas_call_notices_call_id"), ["call_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_cpaas_call_notices_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "cpaas_recordings",
        sa.Column("sid", sa.String(length=34), nullable=False),
        sa.Column("account_sid", sa.String(length=34), nullable=False),
        sa.Column("call_id", sa.Uuid(), nullable=True),
        sa.Column("call_sid", sa.String(length=34), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=24), nullable=False),
        sa.Column("channels", sa.Integer(), nullable=False),
        sa.Column("sample_rate", sa.Integer(), nullable=False),
        sa.Column("start_time", sa.DateTime(), nullable=False),
        sa.Column("duration_s", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=True),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("content_deleted_at", sa.DateTime(), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["cpaas_calls.id"],
            name=op.f("fk_cpaas_recordings_call_id_cpaas_calls"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_cpaas_recordings_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cpaas_recordings")),
        sa.UniqueConstraint("sid", name=op.f("uq_cpaas_recordings_sid")),
    )
    with op.batch_alter_table("cpaas_recordings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cpaas_recordings_call_id"), ["call_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_cpaas_recordings_content_deleted_at"), ["content_deleted_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_cpaas_recordings_tenant_id"), ["tenant_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("cpaas_recordings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cpaas_recordings_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_cpaas_recordings_content_deleted_at"))
        batch_op.drop_index(batch_op.f("ix_cpaas_recordings_call_id"))

    op.drop_table("cpaas_recordings")
    with op.batch_alter_table("cpaas_call_notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cpaas_call_notices_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_cpaas_call_notices_call_id"))

    op.drop_table("cpaas_call_notices")
    with op.batch_alter_table("cpaas_calls", schema=None) as batch_op:
        batch_op.drop_index("ix_cpaas_calls_tenant_started")
        batch_op.drop_index(batch_op.f("ix_cpaas_calls_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_cpaas_calls_switch_call_id"))
        batch_op.drop_index(batch_op.f("ix_cpaas_calls_parent_call_sid"))

    op.drop_table("cpaas_calls")
    with op.batch_alter_table("cpaas_applications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cpaas_applications_tenant_id"))

    op.drop_table("cpaas_applications")
