"""Real phones and carriers (issue 17): desk-phone provisioning (device model, HTTP credentials,
sealed SIP password, time zone) and registration trunks' credentials

Revision ID: 0026
Revises: 0019
Create Date: 2026-12-06 15:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "device_provisioning",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("device_id", sa.Uuid(), nullable=False),
        sa.Column("model", sa.String(length=40), nullable=True),
        sa.Column("http_username", sa.String(length=32), nullable=False),
        sa.Column("http_secret_hash", sa.String(length=64), nullable=False),
        sa.Column("sip_secret_sealed", sa.Text(), nullable=True),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_provisioning")),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_device_provisioning_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["devices.id"],
            name=op.f("fk_device_provisioning_device_id_devices"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("device_id", name=op.f("uq_device_provisioning_device_id")),
        sa.UniqueConstraint("http_username", name=op.f("uq_device_provisioning_http_username")),
    )
    op.create_index(op.f("ix_device_provisioning_tenant_id"), "device_provisioning", ["tenant_id"])
    op.create_table(
        "trunk_credentials",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("trunk_id", sa.Uuid(), nullable=False),
        sa.Column("auth_username", sa.String(length=128), nullable=False),
        sa.Column("auth_password_sealed", sa.Text(), nullable=False),
        sa.Column("register", sa.Boolean(), nullable=False),
        sa.Column("registrar", sa.String(length=253), nullable=False),
        sa.Column("register_expires", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trunk_credentials")),
        sa.ForeignKeyConstraint(
            ["trunk_id"],
            ["trunks.id"],
            name=op.f("fk_trunk_credentials_trunk_id_trunks"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("trunk_id", name=op.f("uq_trunk_credentials_trunk_id")),
        sa.CheckConstraint("register_expires >= 60", name=op.f("ck_trunk_credentials_expires_floor")),
    )
    # Gateways by host name (RFC 1123: up to 253 characters), not only IP literals.
    with op.batch_alter_table("trunk_gateways") as batch:
        batch.alter_column("host", existing_type=sa.String(length=45), type_=sa.String(length=253))
    # The trunk a call left or came in by, in its CDR.
    with op.batch_alter_table("cdr_outcomes") as batch:
        batch.add_column(sa.Column("trunk", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cdr_outcomes") as batch:
        batch.drop_column("trunk")
    with op.batch_alter_table("trunk_gateways") as batch:
        batch.alter_column("host", existing_type=sa.String(length=253), type_=sa.String(length=45))
    op.drop_table("trunk_credentials")
    op.drop_index(op.f("ix_device_provisioning_tenant_id"), table_name="device_provisioning")
    op.drop_table("device_provisioning")
