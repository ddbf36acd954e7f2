"""A call parked on one node is retrieved by a phone whose INVITE Kamailio sends to the other node
(issue 19 §5; pbx/owners.py, docs/scale-out.md "What is owned").

Two Centrex nodes on one PostgreSQL behind Kamailio on loopback. Kamailio picks a node by a hash
of the Call-ID, so the test picks Call-IDs (SIPp ``-cid_str``): probes dialling an empty park slot
show, in the nodes' logs, which node each Call-ID reaches. 1001 calls 1002 with a Call-ID of one
node; 1002 answers and parks the call in slot 5 (REFER to *705) — on that node, which claims the
slot. 1003 dials *715 with a Call-ID of the other node: that node answers 302 with the owner's
address, Kamailio follows it (its failure_route), the owner hands the parked call to 1003, and when
1001 hangs up 1003 gets the BYE. The CDRs say so: the redirect's (failed, ``moved``, 302, on the
node the phone reached) and the call's, answered by 1003. Then a conference room: 1001's call
opens it on node-a, 1002's call reaches node-b and is sent on to node-a, where the app server
has both in the room.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from centrex.store.db import make_engine, make_sessionmaker
from centrex.store.models import ActiveCall, CallDetail, CdrOutcome, SwitchNode, Tenant
from centrex.store.models.conferences import ConferenceBridge
from centrex.store.models.ownership import OwnedState
from tests.nodes.cluster import SCENARIOS, Cluster, Node, free_port, missing_tools

pytestmark = pytest.mark.interop

PG = os.environ.get("CENTREX_TEST_PG", "")


def wait_for(check: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def longer(tmp: Path, scenario: str, hold_ms: int) -> Path:
    text = (
        (SCENARIOS / scenario)
        .read_text()
        .replace('<pause milliseconds="2000"/>', f'<pause milliseconds="{hold_ms}"/>')
    )
    # A-law too: the parked caller may be given the music in either (tests/interop/test_interop_pbx.py).
    text = text.replace(
        "RTP/AVP 0\n      a=rtpmap:0 PCMU/8000",
        "RTP/AVP 0 8\n      a=rtpmap:0 PCMU/8000\n      a=rtpmap:8 PCMA/8000",
    )
    path = tmp / f"long_{scenario}"
    path.write_text(text)
    return path


def node_of(cluster: Cluster, call_id: str, timeout: float = 10) -> Node:
    """The node whose log shows the call with this SIP Call-ID."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen = [n for n in cluster.nodes if f"call={call_id}" in n.log.read_text(errors="replace")]
        if seen:
            assert len(seen) == 1, call_id
            return seen[0]
        time.sleep(0.2)
    raise AssertionError(f"no node logged {call_id}")


def test_a_call_parked_on_one_node_is_retrieved_through_the_other(tmp_path: Path) -> None:
    if not PG:
        pytest.skip("PostgreSQL not configured (CENTREX_TEST_PG; scripts/test sets it)")
    if missing := missing_tools():
        pytest.skip(f"not installed: {missing} (Debian sip-tester, kamailio)")
    cluster = Cluster(PG, tmp_path)
    phones: list[subprocess.Popen[bytes]] = []
    try:
        cluster.create_database(
            CENTREX_SIP_HEARTBEAT_S="1", CENTREX_NODE_STALE_S="10", CENTREX_LOG_LEVEL="INFO"
        )
        cluster.start_node("node-a", (33000, 33999))
        cluster.start_node("node-b", (34000, 34999))
        cluster.start_kamailio()
        sessions = make_sessionmaker(make_engine(cluster.db_url))
        ports = {user: free_port() for user in ("1001", "1002", "1003")}
        for user, port in ports.items():
            reg = cluster.register(user, port)
            assert reg.returncode == 0, reg.stdout[-2000:]
        wait_for(lambda: all(n.contacts() == 3 for n in cluster.nodes), 20, "both nodes to know the phones")

        # Which node each Call-ID reaches: probes dialling an empty slot (404 wherever they land).
        reaches: dict[str, list[str]] = {"node-a": [], "node-b": []}
        for k in range(24):
            call_id = f"probe{k}@owners.test"
            probe = cluster.sipp(SCENARIOS / "uac_refused_404.xml", "1003", ports["1003"], "-au", "1003")
            probe += ["-ap", cluster.passwords["1003"], "-key", "callee", "*719", "-cid_str", call_id]
            done = subprocess.run(
                [*probe, "-m", "1", "-timeout", "20s"], capture_output=True, timeout=60, cwd=tmp_path
            )
            assert done.returncode == 0, done.stdout[-2000:]
            reaches[node_of(cluster, call_id).name].append(call_id)
            if all(len(ids) >= 2 for ids in reaches.values()):
                break
        # 24 Call-IDs not spread over both nodes: not a fair hash
        assert all(len(ids) >= 2 for ids in reaches.values()), reaches

        # 1001 calls 1002 on node-a's Call-ID; 1002 answers and parks it in slot 5.
        parker = cluster.sipp(
            SCENARIOS / "uas_answer_refer.xml", "1002", ports["1002"], "-key", "callee", "*705"
        )
        parker += ["-m", "1", "-trace_err", "-error_file", str(tmp_path / "parker_errors.log")]
        phones.append(
            subprocess.Popen(parker, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        )
        time.sleep(0.3)
        caller = cluster.sipp(
            longer(tmp_path, "uac_call_rtp.xml", 8000), "1001", ports["1001"], "-au", "1001"
        )
        caller += [
            "-ap",
            cluster.passwords["1001"],
            "-key",
            "callee",
            "1002",
            "-cid_str",
            reaches["node-a"][0],
        ]
        caller += ["-m", "1", "-timeout", "40s"]
        phones.append(
            subprocess.Popen(caller, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        )

        def slot_owner() -> str | None:
            with sessions() as s:
                row = s.scalars(
                    select(OwnedState).where(OwnedState.kind == "park", OwnedState.key == "5")
                ).first()
                return row.address if row is not None else None

        wait_for(lambda: slot_owner() is not None, 20, "the call parked in slot 5")
        node_a = next(n for n in cluster.nodes if n.name == "node-a")
        assert slot_owner() == f"sip:127.0.0.1:{node_a.sip}"  # the node that took the call owns the slot
        errors = tmp_path / "parker_errors.log"
        released = phones[0].wait(timeout=20)
        assert released == 0, errors.read_text()[-3000:] if errors.exists() else "parker failed"  # released
        with sessions() as s:
            names = {n.id: n.name for n in s.scalars(select(SwitchNode))}
            [parked] = s.scalars(select(ActiveCall)).all()
            assert names[parked.node_id] == "node-a"

        # 1003 dials *715 on a Call-ID Kamailio sends to node-b: redirected to node-a, it takes it.
        retriever = cluster.sipp(
            longer(tmp_path, "uac_call_callee_bye.xml", 0), "1003", ports["1003"], "-au", "1003"
        )
        retriever += [
            "-ap",
            cluster.passwords["1003"],
            "-key",
            "callee",
            "*715",
            "-cid_str",
            reaches["node-b"][0],
        ]
        retriever += [
            "-m",
            "1",
            "-timeout",
            "30s",
            "-trace_err",
            "-error_file",
            str(tmp_path / "retriever.err"),
        ]
        got = subprocess.run(retriever, capture_output=True, timeout=60, cwd=tmp_path)
        assert got.returncode == 0, (
            got.stdout[-2000:],
            (tmp_path / "retriever.err").read_text(errors="replace")[-2000:]
            if (tmp_path / "retriever.err").exists()
            else "",
        )
        assert phones[1].wait(timeout=30) == 0  # 1001 talked to 1003 and hung up; 1003 got the BYE
        node_b = next(n for n in cluster.nodes if n.name == "node-b")
        assert "sip.owners.redirect" in node_b.log.read_text(errors="replace")

        def cdrs() -> list[tuple[CallDetail, CdrOutcome]]:
            with sessions() as s:
                outcomes = {o.cdr_id: o for o in s.scalars(select(CdrOutcome))}
                return [(c, outcomes[c.id]) for c in s.scalars(select(CallDetail)) if c.id in outcomes]

        wait_for(lambda: any(c.disposition == "answered" for c, _ in cdrs()), 20, "the parked call's CDR")
        records = cdrs()
        moved = [(c, o) for c, o in records if o.hangup_cause == "moved"]
        assert len(moved) == 1 and moved[0][1].sip_code == 302 and moved[0][0].dialled == "*715"
        [answered] = [c for c, _ in records if c.disposition == "answered"]
        assert answered.caller.endswith("1001") and answered.duration_ms > 0
        wait_for(lambda: slot_owner() is None, 15, "slot 5 released once empty")

        # A conference room opened on node-a by 1001; 1002's call reaches node-b, which sends it
        # on to node-a: both are in the one room there (node-a's app server lists them).
        with sessions() as s:
            tenant = s.scalars(select(Tenant).where(Tenant.sip_domain == cluster.domain)).one()
            bridge = ConferenceBridge(tenant_id=tenant.id, name="Huddle", extension="7002", announce=False)
            s.add(bridge)
            s.commit()
            tenant_id, bridge_id = tenant.id, bridge.id
        members = []
        for user, cid in (("1001", reaches["node-a"][1]), ("1002", reaches["node-b"][1])):
            member = cluster.sipp(longer(tmp_path, "uac_call_rtp.xml", 8000), user, ports[user], "-au", user)
            member += ["-ap", cluster.passwords[user], "-key", "callee", "7002", "-cid_str", cid]
            member += ["-m", "1", "-timeout", "40s"]
            members.append(
                subprocess.Popen(member, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            )
            phones.append(members[-1])
            time.sleep(1.5)  # 1001 first: its node opens the room

        def in_room(node: Node) -> int:
            r = httpx.get(
                f"http://127.0.0.1:{node.http}/api/v1/tenants/{tenant_id}/conferences/{bridge_id}/participants",
                headers={"Authorization": f"Bearer {cluster.operator_token}"},
                timeout=5,
            )
            assert r.status_code == 200, r.text
            return int(r.json()["count"])

        wait_for(lambda: in_room(node_a) == 2, 20, "both callers in the room on node-a")
        assert in_room(node_b) == 0
        assert [m.wait(timeout=40) for m in members] == [0, 0]
        records = cdrs()
        into_room = [c for c, o in records if c.dialled == "7002"]
        assert sorted(c.disposition for c in into_room) == ["answered", "answered", "failed"]
        assert [o.sip_code for c, o in records if c.dialled == "7002" and o.hangup_cause == "moved"] == [302]
    finally:
        for p in phones:
            if p.poll() is None:
                p.kill()
                p.wait(timeout=10)
        cluster.close()
