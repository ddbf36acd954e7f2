"""The BIRD 2 (Debian ``bird2``) configuration of a POP's peering router, from the peers in the store.

One BGP protocol per session, and per peer and address family an import filter (the peer's agreed
prefixes, exactly) and an export filter (ours agreed with them, exactly), each rejecting a default
route first (peering-policy.txt, Routing Requirements). A de-peered peer has no protocol and no
filter at all: generating again and reloading BIRD (``birdc configure``) takes its sessions down.

The text is a Jinja2 template (templates/bird.conf.j2): the configuration reads as BIRD's own
language, and only names, addresses and prefixes already checked by ops/peering_policy.py go into
it. ``check`` runs BIRD's own parser (``bird -p -c FILE``) on the result.
"""

from __future__ import annotations

import ipaddress
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import jinja2

from centrex.ops.peering import Active
from centrex.store.models.peering import Peer, PeerSession

TEMPLATES = Path(__file__).parent / "templates"
DEFAULT_ROUTE = {4: "0.0.0.0/0", 6: "::/0"}
BGP_PORT = 179

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    autoescape=False,
    keep_trailing_newline=True,
)


@dataclass(frozen=True, slots=True)
class BirdCheck:
    ok: bool
    output: str  # BIRD's message (file:line:column and what is wrong) when not ok


def bird_binary() -> str | None:
    return shutil.which("bird") or ("/usr/sbin/bird" if Path("/usr/sbin/bird").exists() else None)


def _ident(text: str) -> str:
    """A BIRD symbol: letters, digits and '_' only."""
    return re.sub(r"[^A-Za-z0-9_]", "_", text)


def _label(text: str) -> str:
    """A peer's name inside a BIRD string or comment: no quotes, backslashes or line breaks."""
    return re.sub(r"[\"\\\r\n\t]", " ", text).strip()


def filter_name(asn: int, way: str, family: int) -> str:
    return f"peer_as{asn}_{way}_v{family}"


def protocol_name(asn: int, pop: str, index: int) -> str:
    return _ident(f"peer_as{asn}_{pop}_{index}")


def _peer_context(peer: Peer, sessions: list[PeerSession], pop: str) -> dict[str, object]:
    families = sorted({ipaddress.ip_address(s.neighbor).version for s in sessions})
    filters = []
    for family in families:
        for way in ("import", "export"):
            prefixes = [
                p.prefix
                for p in peer.prefixes
                if p.direction == way and ipaddress.ip_network(p.prefix).version == family
            ]
            filters.append(
                {
                    "name": filter_name(peer.asn, way, family),
                    "default": DEFAULT_ROUTE[family],
                    "prefixes": prefixes,
                }
            )
    contexts = []
    for i, s in enumerate(sessions, start=1):
        family = ipaddress.ip_address(s.neighbor).version
        contexts.append(
            {
                "name": protocol_name(peer.asn, pop, i),
                "family": family,
                "neighbor": s.neighbor,
                "local_address": s.local_address,
                "connection": s.connection.replace("_", "-"),
                "import_filter": filter_name(peer.asn, "import", family),
                "export_filter": filter_name(peer.asn, "export", family),
            }
        )
    return {"label": _label(peer.name), "asn": peer.asn, "filters": filters, "sessions": contexts}


def render(
    view: Active,
    *,
    kernel: bool = True,
    listen_port: int = BGP_PORT,
    generated_at: str | None = None,
) -> str:
    """The configuration of ``view.pop``'s router. ``kernel``: install learned routes in the host's
    forwarding table (off where BIRD runs beside other things, e.g. a test); ``listen_port``: BGP's
    port when not 179 (a test's unprivileged instance)."""
    anchors: dict[int, list[str]] = {4: [], 6: []}
    peers = []
    for peer, sessions in view.peers:
        families = {ipaddress.ip_address(s.neighbor).version for s in sessions}
        for p in peer.prefixes:
            net = ipaddress.ip_network(p.prefix)
            if p.direction == "export" and net.version in families and p.prefix not in anchors[net.version]:
                anchors[net.version].append(p.prefix)
        peers.append(_peer_context(peer, sessions, view.pop.name))
    return _env.get_template("bird.conf.j2").render(
        pop=view.pop,
        peers=peers,
        anchors=[(f, sorted(a, key=ipaddress.ip_network)) for f, a in anchors.items() if a],
        kernel=kernel,
        listen_port=listen_port,
        generated_at=generated_at,
    )


def check(config: str | Path, timeout_s: float = 30.0) -> BirdCheck:
    """BIRD's own parser on ``config`` (text, or a file): ``bird -p -c FILE``."""
    binary = bird_binary()
    if binary is None:
        raise FileNotFoundError("bird is not installed (Debian package bird2)")
    with tempfile.TemporaryDirectory(prefix="centrex-bird-") as tmp:
        if isinstance(config, Path):
            path = config
        else:
            path = Path(tmp) / "bird.conf"
            path.write_text(config)
        done = subprocess.run(
            [binary, "-p", "-c", str(path)], capture_output=True, text=True, timeout=timeout_s, check=False
        )
    return BirdCheck(done.returncode == 0, (done.stdout + done.stderr).strip())
