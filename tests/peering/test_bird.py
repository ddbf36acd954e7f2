"""The generated BIRD 2 configuration (issue 19 part 4), checked by BIRD itself: ``bird -p``
accepts it; each peer has its BGP sessions and filters of exactly the agreed prefixes, never a
default route; de-peering removes the peer's protocols and filters and the configuration still
parses; and a running BIRD loads it, filters routes as agreed, and drops the de-peered peer's
sessions on ``birdc configure``."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from centrex.ops import peering
from centrex.ops.peering_bird import bird_binary, check, render
from centrex.store.errors import Conflict, Invalid

from .conftest import ALPHA, BETA, CHI, NYC, Store

BIRD = bird_binary()
NEVER = "# never a default route (peering-policy.txt, Routing Requirements)"
BIRDC = shutil.which("birdc") or ("/usr/sbin/birdc" if Path("/usr/sbin/birdc").exists() else None)
needs_bird = pytest.mark.skipif(BIRD is None, reason="bird is not installed (Debian package bird2)")


def seed(store: Store) -> None:
    with store.ops() as ops:
        peering.add_pop(ops, CHI)
        peering.add_pop(ops, NYC)
        peering.add_peer(ops, ALPHA)
        peering.add_peer(ops, BETA)


def config(store: Store, pop: str, **kw: object) -> str:
    with store.ops() as ops:
        return render(peering.active_at(ops, peering.find_pop(ops, pop)), **kw)  # type: ignore[arg-type]


def block(text: str, kind: str, name: str) -> str:
    """The body of ``filter NAME { ... }`` or ``protocol bgp NAME { ... }``."""
    m = re.search(rf"^{kind} {name} \{{\n(.*?)^\}}", text, re.S | re.M)
    assert m, f"no {kind} {name} in:\n{text}"
    return m.group(1)


@needs_bird
def test_bird_parses_the_config_and_each_peer_has_exactly_its_agreed_prefixes(store: Store) -> None:
    seed(store)
    chi = config(store, "chi1")
    result = check(chi)
    assert result.ok, result.output
    # One BGP protocol per session at this POP: Alpha's v4 and v6, Beta's v4 (Alpha's NYC one is not here).
    assert re.findall(r"^protocol bgp (\S+) \{", chi, re.M) == [  # peers by ASN
        "peer_as6939_chi1_1",
        "peer_as13335_chi1_1",
        "peer_as13335_chi1_2",
    ]
    alpha_v4 = block(chi, "protocol bgp", "peer_as13335_chi1_1")
    assert "neighbor 206.223.119.5 as 13335;" in alpha_v4 and "local 206.223.119.1 as LOCAL_ASN;" in alpha_v4
    assert (
        "import filter peer_as13335_import_v4;" in alpha_v4
        and "export filter peer_as13335_export_v4;" in alpha_v4
    )
    assert "define LOCAL_ASN = 397000;" in chi and "router id 23.128.0.1;" in chi
    # The filters: the default route rejected first, then exactly the agreed list, then reject.
    assert block(chi, "filter", "peer_as13335_import_v4").split("\n")[:3] == [
        "  if net = 0.0.0.0/0 then reject;  " + NEVER,
        "  if net ~ [ 104.16.0.0/13, 172.64.0.0/13 ] then accept;",
        "  reject;",
    ]
    assert "if net ~ [ 23.128.0.0/22 ] then accept;" in block(chi, "filter", "peer_as13335_export_v4")
    assert "if net = ::/0 then reject;" in block(chi, "filter", "peer_as13335_import_v6")
    assert "if net ~ [ 2606:4700::/32 ] then accept;" in block(chi, "filter", "peer_as13335_import_v6")
    assert "if net ~ [ 64.62.128.0/18 ] then accept;" in block(chi, "filter", "peer_as6939_import_v4")
    assert "0.0.0.0/0 ]" not in chi and "::/0 ]" not in chi  # no accept list holds a default
    # The NYC router: Alpha alone, over a cross-connect (NYC has no meet-me room).
    nyc = config(store, "nyc1")
    assert check(nyc).ok
    assert re.findall(r"^protocol bgp (\S+) \{", nyc, re.M) == ["peer_as13335_nyc1_1"]
    assert "cross-connect" in block(nyc, "protocol bgp", "peer_as13335_nyc1_1")


@needs_bird
def test_depeering_removes_the_peer_and_the_config_still_parses(store: Store) -> None:
    seed(store)
    before = config(store, "chi1")
    assert "peer_as6939" in before
    with store.ops() as ops:
        beta = peering.find_peer(ops, "AS6939")
        peering.depeer(ops, beta, "traffic moved to transit")
    after = config(store, "chi1")
    result = check(after)
    assert result.ok, result.output
    assert "6939" not in after and "64.62.128.0/18" not in after  # no protocol, no filter, no prefix
    assert re.findall(r"^protocol bgp (\S+) \{", after, re.M) == [
        "peer_as13335_chi1_1",
        "peer_as13335_chi1_2",
    ]
    with store.ops() as ops:
        assert [p.asn for p in peering.list_peers(ops)] == [13335]
        [gone] = [p for p in peering.list_peers(ops, include_depeered=True) if p.asn == 6939]
        assert gone.depeered_at is not None and gone.depeer_reason == "traffic moved to transit"
        with pytest.raises(Conflict):
            peering.depeer(ops, gone, "again")
        # The ASN may peer again later: a new record, back in the configuration.
        peering.add_peer(ops, BETA)
    assert "peer_as6939_chi1_1" in config(store, "chi1")
    # The last peer gone: the router keeps its own config and peers with no one.
    with store.ops() as ops:
        for p in peering.list_peers(ops):
            peering.depeer(ops, p, "closing the POP")
    empty = config(store, "chi1")
    assert check(empty).ok and "protocol bgp" not in empty


@needs_bird
def test_bird_refuses_a_broken_config_so_the_check_can_fail(store: Store) -> None:
    seed(store)
    broken = config(store, "chi1").replace("104.16.0.0/13", "104.16.0.0/33")
    result = check(broken)
    assert not result.ok and "Invalid prefix length 33" in result.output


def test_a_peer_without_what_the_policy_asks_is_refused_and_nothing_is_stored(store: Store) -> None:
    with store.ops() as ops:
        peering.add_pop(ops, CHI)
        peering.add_pop(ops, NYC)
    cases = [
        (ALPHA.__class__(**{**_spec(ALPHA), "contacts": []}), "contacts", "required"),
        (
            ALPHA.__class__(**{**_spec(ALPHA), "prefixes": [("0.0.0.0/0", "import")]}),
            "prefixes[0].prefix",
            None,
        ),
        (ALPHA.__class__(**{**_spec(ALPHA), "asn": 64512}), "asn", "public_asn"),
        (
            ALPHA.__class__(**{**_spec(ALPHA), "sessions": [peering.SessionSpec("lax1", "198.32.146.5")]}),
            "sessions[0].pop",
            "pop",
        ),
        (
            ALPHA.__class__(
                **{**_spec(ALPHA), "sessions": [peering.SessionSpec("nyc1", "198.32.160.5", "meet_me_room")]}
            ),
            "sessions[0].connection",
            "meet_me_room",
        ),
        (
            ALPHA.__class__(
                **{
                    **_spec(ALPHA),
                    "prefixes": [("23.128.0.0/22", "export")],
                    "sessions": [peering.SessionSpec("chi1", "2001:504:0:4::d:1")],
                }
            ),
            "sessions[0]",
            "prefix_family",
        ),
    ]
    for spec, field, rule in cases:
        with pytest.raises(Invalid) as info, store.ops() as ops:
            peering.add_peer(ops, spec)
        assert info.value.field == field, (field, info.value.message)
        if rule:
            assert info.value.rule == rule
    with store.ops() as ops:
        assert peering.list_peers(ops, include_depeered=True) == []
        peering.add_peer(ops, ALPHA)
    with pytest.raises(Conflict), store.ops() as ops:
        peering.add_peer(ops, ALPHA)  # one active peering per ASN


def _spec(spec: peering.PeerSpec) -> dict[str, object]:
    return {f: getattr(spec, f) for f in spec.__dataclass_fields__}


# -- a running BIRD --------------------------------------------------------------------------------


def _free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# Routes a real peer or our network could put in BIRD's table, to see what each filter lets through.
PROBE = """
protocol static probe_v4 {
  ipv4;
  route 0.0.0.0/0 blackhole;
  route 104.16.0.0/13 blackhole;
  route 104.16.0.0/14 blackhole;
  route 172.64.0.0/13 blackhole;
  route 8.8.8.0/24 blackhole;
  route 23.128.0.0/23 blackhole;
}
"""


@pytest.fixture
def running_bird(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    if BIRD is None or BIRDC is None:
        pytest.skip("bird/birdc are not installed (Debian package bird2)")
    conf, sock = tmp_path / "bird.conf", tmp_path / "bird.ctl"
    conf.write_text("router id 23.128.0.1;\nprotocol device {\n}\n")
    proc = subprocess.Popen(
        [BIRD, "-f", "-c", str(conf), "-s", str(sock), "-P", str(tmp_path / "bird.pid")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 20
        while not sock.exists():
            assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
            assert time.monotonic() < deadline, "bird did not open its control socket"
            time.sleep(0.05)
        yield conf, sock
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def birdc(sock: Path, *command: str) -> str:
    assert BIRDC is not None
    done = subprocess.run([BIRDC, "-s", str(sock), *command], capture_output=True, text=True, timeout=20)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def routes(output: str) -> list[str]:
    return sorted(set(re.findall(r"^(\d+\.\d+\.\d+\.\d+/\d+)", output, re.M)))


def test_a_running_bird_loads_it_filters_as_agreed_and_drops_a_depeered_peer(
    store: Store, running_bird: tuple[Path, Path]
) -> None:
    conf, sock = running_bird
    seed(store)
    # kernel=False: this BIRD shares the host with the tests; a BGP port of its own, not 179.
    text = config(store, "chi1", kernel=False, listen_port=_free_tcp_port())
    conf.write_text(text + PROBE)
    assert "Reconfigured" in birdc(sock, "configure")
    protocols = birdc(sock, "show", "protocols")
    for name in (
        "peer_as13335_chi1_1",
        "peer_as13335_chi1_2",
        "peer_as6939_chi1_1",
        "anchors_v4",
        "anchors_v6",
    ):
        assert re.search(rf"^{name}\s", protocols, re.M), protocols
    # BIRD's own evaluation of the filters over a table holding a default route, the agreed
    # prefixes, a more specific of one, someone else's prefix and a more specific of ours.
    accepted = routes(birdc(sock, "show", "route", "filter", "peer_as13335_import_v4"))
    assert accepted == ["104.16.0.0/13", "172.64.0.0/13"]
    announced = routes(birdc(sock, "show", "route", "filter", "peer_as13335_export_v4"))
    assert announced == ["23.128.0.0/22"]
    assert routes(birdc(sock, "show", "route", "filter", "peer_as6939_import_v4")) == []
    assert "0.0.0.0/0" in birdc(sock, "show", "route")  # it was there to be refused
    with store.ops() as ops:
        peering.depeer(ops, peering.find_peer(ops, "6939"), "de-peered at will")
    conf.write_text(config(store, "chi1", kernel=False, listen_port=_free_tcp_port()) + PROBE)
    # The removed protocol is shut down first ("Reconfiguration in progress"), then gone.
    assert re.search(r"Reconfigur(ed|ation in progress)", birdc(sock, "configure"))
    deadline = time.monotonic() + 20
    while "peer_as6939" in (protocols := birdc(sock, "show", "protocols")):
        assert time.monotonic() < deadline, protocols
        time.sleep(0.1)
    assert re.search(r"^peer_as13335_chi1_1\s", protocols, re.M)
