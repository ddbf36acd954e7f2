"""Settlement-free peering (issue 19 part 4; peering-policy.txt): our POPs, peers, their emergency
contacts, BGP sessions and agreed prefixes

Revision ID: 0024
Revises: 0019
Create Date: 2026-12-06 15:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def _row() -> list[sa.Column[object]]:
    return [
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    ]


def _child(name: str) -> list[sa.schema.SchemaItem]:
    return [
        sa.Column("peer_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
        sa.ForeignKeyConstraint(
            ["peer_id"], ["peers.id"], name=op.f(f"fk_{name}_peer_id_peers"), ondelete="CASCADE"
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "peering_pops",
        *_row(),
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("facility", sa.String(200), nullable=False),
        sa.Column("city", sa.String(100), nullable=False),
        sa.Column("meet_me_room", sa.Boolean(), nullable=False),
        sa.Column("router_id", sa.String(15), nullable=False),
        sa.Column("local_asn", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_peering_pops")),
        sa.UniqueConstraint("name", name=op.f("uq_peering_pops_name")),
    )
    op.create_table(
        "peers",
        *_row(),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("asn", sa.BigInteger(), nullable=False),
        sa.Column("notes", sa.String(2000), nullable=False),
        sa.Column("depeered_at", sa.DateTime(), nullable=True),
        sa.Column("depeer_reason", sa.String(500), nullable=True),
        sa.Column("depeered_by", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_peers")),
    )
    op.create_index("ix_peers_asn_active", "peers", ["asn", "depeered_at"])
    op.create_table(
        "peer_contacts",
        *_row(),
        *_child("peer_contacts"),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
    )
    op.create_table(
        "peer_sessions",
        *_row(),
        *_child("peer_sessions"),
        sa.Column("pop_id", sa.Uuid(), nullable=False),
        sa.Column("neighbor", sa.String(45), nullable=False),
        sa.Column("local_address", sa.String(45), nullable=True),
        sa.Column("connection", sa.String(16), nullable=False),
        sa.ForeignKeyConstraint(
            ["pop_id"], ["peering_pops.id"], name=op.f("fk_peer_sessions_pop_id_peering_pops")
        ),
    )
    op.create_index(op.f("ix_peer_sessions_pop_id"), "peer_sessions", ["pop_id"])
    op.create_table(
        "peer_prefixes",
        *_row(),
        *_child("peer_prefixes"),
        sa.Column("prefix", sa.String(49), nullable=False),
        sa.Column("direction", sa.String(8), nullable=False),
    )
    for name in ("peer_contacts", "peer_sessions", "peer_prefixes"):
        op.create_index(op.f(f"ix_{name}_peer_id"), name, ["peer_id"])


def downgrade() -> None:
    for name in ("peer_prefixes", "peer_sessions", "peer_contacts"):
        op.drop_table(name)
    op.drop_index("ix_peers_asn_active", table_name="peers")
    op.drop_table("peers")
    op.drop_table("peering_pops")
