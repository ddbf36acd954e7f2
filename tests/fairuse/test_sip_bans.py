"""Bans at the SIP edge over real UDP sockets on 127.0.0.x (each address a different customer's NAT
address or carrier): only proven guessing bans; forged nonces, nonces of another source and a
trunk's address never do; a ban outlives a restart of the service on the same database."""

from __future__ import annotations

import asyncio
import secrets
import time

from sqlalchemy import select

from centrex.fairuse.bans import Realm
from centrex.store.db import transaction
from centrex.store.models.bans import BanRow
from centrex.store.models.trunks import TrunkGatewayRow, TrunkKind, TrunkRow

from .sip_udp import UdpPhone
from .switch import Switch

USER = "1001"


def phone(switch: Switch, host: str) -> UdpPhone:
    return UdpPhone(host, switch.port, switch.domain)


def forged_authorizations(switch: Switch, user: str) -> list[str]:
    """Credentials no challenge of ours ever carried: random nonces, a nonce of the right shape
    with a made-up signature, one stamped far in the future."""
    stamp = f"{int(time.time()):x}"
    nonces = [
        secrets.token_hex(16),
        f"{stamp}.{secrets.token_hex(16)}",
        f"{int(time.time()) + 86400:x}.{secrets.token_hex(16)}",
        "",
        "deadbeef",
        f"{stamp}.",
        f"{stamp}.{'0' * 32}",
    ]
    return [
        f'Digest username="{user}", realm="{switch.domain}", nonce="{n}", uri="sip:{switch.domain}", '
        f'response="{secrets.token_hex(16)}", algorithm=MD5'
        for n in nonces
    ]


def ban_rows(switch: Switch) -> list[BanRow]:
    switch.service.bans.flush()
    with switch.sessions() as session:
        return list(session.scalars(select(BanRow).order_by(BanRow.started_at)))


async def test_invented_nonces_from_a_forged_source_never_ban(switch: Switch) -> None:
    """Today's five-packet lock-out: REGISTERs with invented nonces "from" a customer's NAT address.
    Each gets a fresh challenge and counts nothing; the real phone behind it still registers."""
    nat = phone(switch, "127.0.0.2")
    try:
        for authorization in forged_authorizations(switch, USER) * 2:  # 14 packets
            answer = await nat.register(USER, authorization)
            assert answer is not None and answer.status == 401
            assert answer.headers.get("WWW-Authenticate") is not None  # a fresh challenge
        assert not switch.service.guard.bans.is_banned("127.0.0.2", time.time())
        challenge = await nat.challenge(USER)
        ok = await nat.register(USER, nat.answer(challenge, USER, switch.passwords[USER]))
        assert ok is not None and ok.status == 200
    finally:
        nat.close()
    assert ban_rows(switch) == []


async def test_a_nonce_issued_to_another_source_counts_nothing(switch: Switch) -> None:
    """The attacker gets a real challenge at its own address and replays it, with wrong passwords,
    "from" the victim's address: the nonce is not the victim's, so nothing counts against it."""
    attacker, victim = phone(switch, "127.0.0.3"), phone(switch, "127.0.0.4")
    try:
        challenge = await attacker.challenge(USER)
        for i in range(8):
            answer = await victim.register(USER, victim.answer(challenge, USER, f"guess{i}"))
            assert answer is not None and answer.status == 401
        assert not switch.service.guard.bans.is_banned("127.0.0.4", time.time())
        assert not switch.service.guard.bans.is_banned("127.0.0.3", time.time())
    finally:
        attacker.close()
        victim.close()


async def test_real_guessing_bans_after_five_wrong_passwords(switch: Switch) -> None:
    """A wrong password answering our own challenge, five times: the source is banned and hears
    nothing more, even with the right password; a neighbour is not affected. The ban is stored."""
    guesser, neighbour = phone(switch, "127.0.0.5"), phone(switch, "127.0.0.6")
    try:
        for i in range(5):
            answer = await guesser.guess(USER, f"wrong{i}")
            assert answer is not None and answer.status == 401, i
        assert await guesser.register(USER) is None  # dropped unparsed, no 401, no 100 Trying
        assert switch.service.guard.bans.is_banned("127.0.0.5", time.time())
        ok = await neighbour.register(
            USER, neighbour.answer(await neighbour.challenge(USER), USER, switch.passwords[USER])
        )
        assert ok is not None and ok.status == 200
    finally:
        guesser.close()
        neighbour.close()
    [row] = ban_rows(switch)
    assert (row.realm, row.source, row.failures, row.last_username, row.ended_at) == (
        "sip",
        "127.0.0.5",
        5,
        USER,
        None,
    )
    assert 590 <= (row.until - row.started_at).total_seconds() <= 610


async def test_unknown_users_are_banned_exactly_like_known_ones(switch: Switch) -> None:
    """No enumeration: guessing an extension that does not exist looks and counts the same."""
    guesser = phone(switch, "127.0.0.7")
    try:
        for i in range(5):
            answer = await guesser.guess("9999", f"wrong{i}")
            assert answer is not None and answer.status == 401
        assert await guesser.register("9999") is None
    finally:
        guesser.close()


async def test_a_trunk_address_is_never_banned(switch: Switch) -> None:
    """A carrier's SBC (a trunk gateway) and a peer's inbound network are on the allowlist."""
    with transaction(switch.sessions) as session:
        carrier = TrunkRow(name="carrier-a", kind=TrunkKind.CARRIER)
        peer = TrunkRow(name="peer-b", kind=TrunkKind.PEER, inbound_networks=["127.0.9.0/24"])
        session.add_all([carrier, peer])
        session.flush()
        session.add(TrunkGatewayRow(trunk_id=carrier.id, host="127.0.0.8"))
    await switch.restart()  # the allowlist is read at start (and every few seconds after)
    sbc, peer_host = phone(switch, "127.0.0.8"), phone(switch, "127.0.9.20")
    try:
        for i in range(8):
            for p in (sbc, peer_host):
                answer = await p.guess(USER, f"wrong{i}")
                assert answer is not None and answer.status == 401
    finally:
        sbc.close()
        peer_host.close()
    assert switch.service.bans.banned_count == 0
    assert ban_rows(switch) == []


async def test_a_trunk_added_while_running_is_allowlisted_within_the_sync(switch: Switch) -> None:
    """A ban of an address that then becomes a trunk's gateway ends at the next sync from the store."""
    guesser = phone(switch, "127.0.0.12")
    try:
        for i in range(5):
            await guesser.guess(USER, f"wrong{i}")
        assert switch.service.bans.is_banned("127.0.0.12", time.time())
        with transaction(switch.sessions) as session:
            trunk = TrunkRow(name="carrier-late", kind=TrunkKind.CARRIER)
            session.add(trunk)
            session.flush()
            session.add(TrunkGatewayRow(trunk_id=trunk.id, host="127.0.0.12"))
        switch.service.bans.sync()  # what the service does every BAN_SYNC_S
        switch.service.bans.flush()
        await asyncio.sleep(0.05)  # the result is applied on the loop
        assert not switch.service.bans.is_banned("127.0.0.12", time.time())
        answer = await guesser.register(USER)
        assert answer is not None and answer.status == 401
    finally:
        guesser.close()
    [row] = ban_rows(switch)
    assert row.ended_at is not None and row.lifted_by == "allowlist"


async def test_a_ban_survives_a_restart_on_the_same_database(switch: Switch) -> None:
    guesser, other = phone(switch, "127.0.0.9"), phone(switch, "127.0.0.10")
    try:
        for i in range(5):
            await guesser.guess(USER, f"wrong{i}")
        assert await guesser.register(USER) is None
        await switch.restart()
        guesser.server = other.server = ("127.0.0.1", switch.port)
        assert switch.service.bans.is_banned("127.0.0.9", time.time())
        assert await guesser.register(USER) is None
        answer = await other.register(USER)
        assert answer is not None and answer.status == 401
    finally:
        guesser.close()
        other.close()


async def test_a_nonce_issued_before_a_restart_still_counts_after_it(switch: Switch) -> None:
    """The nonce key is kept in the store: guesses that straddle a restart are still proof."""
    guesser = phone(switch, "127.0.0.11")
    try:
        for i in range(3):
            await guesser.guess(USER, f"wrong{i}")
        challenges = [await guesser.challenge(USER) for _ in range(2)]
        await switch.restart()
        guesser.server = ("127.0.0.1", switch.port)
        for i, challenge in enumerate(challenges):
            answer = await guesser.register(USER, guesser.answer(challenge, USER, f"late{i}"))
            assert answer is not None and answer.status == 401
        # Failures are counted in memory: the restart forgot the first three; these two count.
        assert switch.service.bans.book.ban_of(Realm.SIP, "127.0.0.11", time.time()) is None
        for i in range(3):
            await guesser.guess(USER, f"more{i}")
        assert switch.service.bans.is_banned("127.0.0.11", time.time())
    finally:
        guesser.close()
