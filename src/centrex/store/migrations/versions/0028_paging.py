"""paging: paging_groups and paging_group_members (issue 17 §3) - an extension that pages every
member's phones at once with auto-answer

Revision ID: 0028
Revises: 0026
Create Date: 2026-12-06 16:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "paging_groups",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("extension", sa.String(length=8), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_paging_groups_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paging_groups")),
        sa.UniqueConstraint("tenant_id", "extension", name="uq_paging_groups_extension"),
    )
    with op.batch_alter_table("paging_groups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_paging_groups_tenant_id"), ["tenant_id"], unique=False)
    op.create_table(
        "paging_group_members",
        sa.Column("paging_group_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["paging_group_id"],
            ["paging_groups.id"],
            name=op.f("fk_paging_group_members_paging_group_id_paging_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_paging_group_members_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_paging_group_members_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paging_group_members")),
        sa.UniqueConstraint("paging_group_id", "user_id", name="uq_paging_group_members_user"),
    )
    with op.batch_alter_table("paging_group_members", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_paging_group_members_paging_group_id"), ["paging_group_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_paging_group_members_tenant_id"), ["tenant_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("paging_group_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_paging_group_members_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_paging_group_members_paging_group_id"))
    op.drop_table("paging_group_members")
    with op.batch_alter_table("paging_groups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_paging_groups_tenant_id"))
    op.drop_table("paging_groups")
