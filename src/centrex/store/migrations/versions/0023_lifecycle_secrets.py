"""Lifecycle and secrets at rest (issue 19 parts 3 and 6): tenant_lifecycle (voicemail retention
policy, termination and its export window, the deletion tombstone, the port-out PIN hash), and the
signing secrets of 911 webhook contacts encrypted with the key outside the database
(store/secretbox.py); the downgrade decrypts them again.

Revision ID: 0023
Revises: 0019
Create Date: 2026-12-06 15:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from centrex.store import secretbox

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def _recrypt(convert: object) -> None:
    bind = op.get_bind()
    contacts = sa.table("e911_contacts", sa.column("id", sa.Uuid()), sa.column("signing_secret", sa.String()))
    rows = bind.execute(
        sa.select(contacts.c.id, contacts.c.signing_secret).where(contacts.c.signing_secret.is_not(None))
    ).all()
    for row_id, value in rows:
        new = convert(value)  # type: ignore[operator]
        if new != value:
            bind.execute(contacts.update().where(contacts.c.id == row_id).values(signing_secret=new))


def upgrade() -> None:
    op.create_table(
        "tenant_lifecycle",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("voicemail_retention_days", sa.Integer(), nullable=True),
        sa.Column("terminated_at", sa.DateTime(), nullable=True),
        sa.Column("terminated_reason", sa.String(32), nullable=False),
        sa.Column("purge_started_at", sa.DateTime(), nullable=True),
        sa.Column("port_out_pin_hash", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenant_lifecycle")),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_tenant_lifecycle_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("tenant_id", name=op.f("uq_tenant_lifecycle_tenant_id")),
    )
    with op.batch_alter_table("tenant_lifecycle", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tenant_lifecycle_tenant_id"), ["tenant_id"], unique=False)
    with op.batch_alter_table("e911_contacts", schema=None) as batch_op:
        batch_op.alter_column(
            "signing_secret", existing_type=sa.String(length=100), type_=sa.String(length=500)
        )
    _recrypt(lambda v: secretbox.encrypt(v))


def downgrade() -> None:
    _recrypt(lambda v: secretbox.decrypt(v))
    with op.batch_alter_table("e911_contacts", schema=None) as batch_op:
        batch_op.alter_column(
            "signing_secret", existing_type=sa.String(length=500), type_=sa.String(length=100)
        )
    with op.batch_alter_table("tenant_lifecycle", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tenant_lifecycle_tenant_id"))
    op.drop_table("tenant_lifecycle")
