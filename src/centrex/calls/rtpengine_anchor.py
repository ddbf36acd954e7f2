"""The call engine's media anchor on rtpengine (issue #4 point 8), selected by
``CENTREX_MEDIA_RELAY=rtpengine``; the built-in relay (calls/media.py RelayAnchor) is the default.

rtpengine is driven with SDP that this module writes itself, one rtpengine call per Centrex call
with two participants, tag ``a`` (the caller's side) and tag ``b`` (the callee's side):

- ``open``: an ``offer`` from ``a`` and an ``answer`` from ``b``, both naming a placeholder address
  (127.0.0.1, the discard port 9) so that both of rtpengine's ports are known at once -- the engine
  writes them into the SDP it sends (the port of ``b`` toward the callee, of ``a`` toward the caller).
- ``set_remote``: the same offer/answer again with the leg's real SDP address. The ``port latching``
  flag keeps rtpengine's ports when the remote port changes (without it rtpengine moves to new
  ports on such a re-offer, and the SDP already sent would point at a closed port). rtpengine
  latches on the first packet's source (symmetric RTP, its endpoint learning) for phones behind
  NAT, like the built-in relay, and a later re-offer with the same SDP address does not undo it.
- ``music``: ``play media`` of the project's own hold music (media/music.py) written as a WAV under
  the data directory, to the held participant, in that participant's first codec (we re-signal with
  the engine's payload type first); ``stop media`` ends it. It needs rtpengine built with
  transcoding (Debian's 10.5 is); if the daemon refuses, music becomes a logged no-op.
- ``announce`` (the engine's ``Announcer``: queue position prompts): ``play media`` of the prompt's
  PCM written as a WAV (``<data dir>/media/prompts/<sha256>.wav``, as bytes to a remote daemon),
  once. rtpengine's player plays one thing at a time, so the prompt replaces the hold music; the
  music is played again after the ``duration`` rtpengine replies with (an asyncio timer: without a
  running loop the leg hears the prompt and then silence, logged).
- ``close``: ``delete`` with no delay; its reply's per-participant statistics are kept in
  ``finished`` as ``LegStats`` like RelayAnchor's (``packets_out`` of a leg is what rtpengine
  received from the other leg: 10.5 reports no per-direction send counters; no loss/jitter).

A daemon that does not answer makes ``open`` return None (the call is never refused, 911
included; ``HybridAnchor`` then anchors it on the built-in relay) and is not asked again for
``retry_after_s``, so a dead daemon costs one timeout per ``retry_after_s``, not one per call.

Recording: the recorder taps the built-in relay's packets (media/recorder.py) and rtpengine's media
never passes through this process, so ``select_anchor`` returns a ``HybridAnchor``
(calls/hybrid_anchor.py): calls of tenants that may record someone stay on the built-in relay, the
others go to rtpengine.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ipaddress
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from centrex.media.errors import MediaError
from centrex.media.g711 import Pcm
from centrex.media.music import music_pcm
from centrex.media.relay import EF_TOS, LegStats
from centrex.media.rtpengine import NgClient, NgError, NgUnreachable, StreamStats, stream_stats
from centrex.media.wav import write_wav
from centrex.sip.errors import SipParseError
from centrex.sip.sdp import parse_sdp

log = logging.getLogger(__name__)

PLACEHOLDER = ("127.0.0.1", 9)  # RFC 863 discard: where a leg's media goes before its SDP is known
LEGS = ("a", "b")
CODECS = (0, 8)  # PCMU, PCMA: what the engine's calls carry; rtpengine forwards any payload type
TELEPHONE_EVENT = 101
FLAGS = ("port latching",)
MUSIC_REPEAT = 10_000  # ~11 hours of the 4 s loop: "until stopped"


def parse_ng_address(text: str) -> tuple[str, int]:
    """'host:port' (or '[v6]:port') of rtpengine's ng listener, with an error naming the setting."""
    host, sep, port_s = text.strip().rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port_s.isdigit() or not 0 < int(port_s) < 65536:
        raise ValueError(f"CENTREX_RTPENGINE_NG must look like host:port (e.g. 127.0.0.1:2223), got {text!r}")
    return host, int(port_s)


def _wav_once(path: Path, pcm: Callable[[], Pcm]) -> Path:
    """``path`` as a 16-bit 8 kHz WAV, written (whole, then renamed) only if it is not there yet."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        write_wav(tmp, pcm())
        tmp.replace(path)
    return path.resolve()


def hold_music_wav(data_dir: str | Path) -> Path:
    """The hold music as a WAV under ``data_dir`` (rtpengine reads it by name)."""
    return _wav_once(Path(data_dir) / "media" / "hold-music-8k.wav", music_pcm)


def prompt_wav(directory: Path, pcm: Pcm) -> Path:
    """A prompt as a WAV named by its content: the queue's few phrases are written once each."""
    digest = hashlib.sha256(pcm.astype("<i2").tobytes()).hexdigest()[:32]
    return _wav_once(directory / f"{digest}.wav", lambda: pcm)


def placeholder_sdp(address: str, port: int, codecs: tuple[int, ...], session: str) -> str:
    family = "IP6" if ":" in address else "IP4"
    fmts = " ".join(str(pt) for pt in (*codecs, TELEPHONE_EVENT))
    return (
        f"v=0\r\no=centrex {session} 1 IN {family} {address}\r\ns=-\r\nc=IN {family} {address}\r\n"
        f"t=0 0\r\nm=audio {port} RTP/AVP {fmts}\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
        f"a=rtpmap:{TELEPHONE_EVENT} telephone-event/8000\r\na=fmtp:{TELEPHONE_EVENT} 0-16\r\n"
        "a=sendrecv\r\n"
    )


def sdp_media_address(sdp: str) -> tuple[str, int]:
    """The audio address rtpengine put into the SDP it returned."""
    try:
        sd = parse_sdp(sdp)
    except (SipParseError, ValueError) as exc:
        raise MediaError(f"rtpengine returned SDP we cannot read: {exc}") from None
    audio = next((m for m in sd.media if m.media == "audio" and m.port), None)
    conn = sd.media_connection(audio) if audio is not None else None
    if audio is None or conn is None:
        raise MediaError("rtpengine returned SDP without an audio address")
    return conn.address, audio.port


@dataclass(slots=True)
class _Call:
    session: str
    remote: dict[str, tuple[str, int]] = field(default_factory=lambda: dict.fromkeys(LEGS, PLACEHOLDER))
    codecs: dict[str, tuple[int, ...]] = field(default_factory=lambda: dict.fromkeys(LEGS, CODECS))
    playing: set[str] = field(default_factory=set)
    payload: dict[str, int] = field(default_factory=dict)  # the music's payload type, per leg
    resume: dict[str, asyncio.TimerHandle] = field(default_factory=dict)  # music after a prompt


def _cancel_resume(call: _Call, leg: str) -> None:
    """Forget the music that was to start again after a prompt (new music, a stop, a new prompt)."""
    pending = call.resume.pop(leg, None)
    if pending is not None:
        pending.cancel()


def leg_stats(streams: dict[str, StreamStats]) -> dict[str, LegStats]:
    out: dict[str, LegStats] = {}
    for leg in LEGS:
        own, other = streams.get(leg), streams.get("b" if leg == "a" else "a")
        if own is None:
            continue
        out[leg] = LegStats(
            leg=leg,
            local_port=own.local_port or 0,
            remote=own.endpoint,
            packets_in=own.packets_in,
            bytes_in=own.bytes_in,
            packets_out=other.packets_in if other else 0,
            bytes_out=other.bytes_in if other else 0,
            rtcp_in=own.rtcp_in,
            rtcp_out=other.rtcp_in if other else 0,
            dropped=own.errors,
            lost=0,
            jitter_ms=0.0,
        )
    return out


class RtpengineAnchor:
    def __init__(
        self,
        client: NgClient,
        *,
        music_file: Path | None = None,
        music_blob: bool = False,
        prompt_dir: Path | None = None,
        keep_stats: int = 1000,
        retry_after_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        tos: int | None = EF_TOS,
    ) -> None:
        self.client = client
        self.tos = tos  # DSCP EF on the media rtpengine sends (RFC 4594 §4.1), None: rtpengine's own
        self.music_file = music_file
        self.music_blob = music_blob  # send the WAV's bytes: a daemon on another host has no such file
        self.prompt_dir = prompt_dir or (music_file.parent / "prompts" if music_file else None)
        self.keep_stats = keep_stats
        self.retry_after_s = retry_after_s
        self.clock = clock
        self.finished: OrderedDict[str, dict[str, LegStats]] = OrderedDict()
        self.music_supported = music_file is not None
        self._calls: dict[str, _Call] = {}
        self._down_until = 0.0
        self._blob: bytes | None = None

    def __len__(self) -> int:
        return len(self._calls)

    # -- the MediaAnchor port --------------------------------------------------------------------
    def open(self, call_id: str) -> tuple[tuple[str, int], tuple[str, int]] | None:
        if self.clock() < self._down_until:
            return None
        call = _Call(session=str(int(time.time())))
        try:
            to_callee = self._offer(call_id, call)
            to_caller = self._answer(call_id, call)
        except (NgError, MediaError) as exc:
            self._failed(call_id, "open", exc)
            if not isinstance(exc, NgUnreachable):  # an offer may have been taken: free its ports
                with contextlib.suppress(NgError):
                    self.client.request("delete", **{"call-id": call_id, "delete delay": 0})
            return None
        self._calls[call_id] = call
        return to_caller, to_callee

    def set_remote(self, call_id: str, leg: str, address: str, port: int) -> None:
        call = self._calls.get(call_id)
        if call is None or leg not in LEGS or call.remote[leg] == (address, port):
            return
        call.remote[leg] = (address, port)
        self._resignal(call_id, call, "set_remote")

    def music(self, call_id: str, leg: str, payload_type: int, on: bool) -> None:
        """Hold music to ``leg`` (the held party) from rtpengine's player, or stop it."""
        call = self._calls.get(call_id)
        if call is None or leg not in LEGS:
            return
        _cancel_resume(call, leg)
        if not on:
            if leg in call.playing:
                call.playing.discard(leg)
                try:
                    self.client.request("stop media", **{"call-id": call_id, "from-tag": leg})
                except NgError as exc:
                    log.warning("media.rtpengine.stop_media call=%s leg=%s: %s", call_id, leg, exc)
            return
        if not self.music_supported or self.music_file is None:
            log.info("media.rtpengine.music_unavailable call=%s leg=%s (no music)", call_id, leg)
            return
        self._codec_first(call_id, call, leg, payload_type, "music")
        if self.music_blob and self._blob is None:
            self._blob = self.music_file.read_bytes()  # kept: sent for every held call
        source = self._source(self.music_file, self._blob)
        try:
            self.client.request(
                "play media", **{"call-id": call_id, "from-tag": leg, "repeat-times": MUSIC_REPEAT, **source}
            )
        except NgUnreachable as exc:
            self._failed(call_id, "play media", exc)
            return
        except NgError as exc:
            # A build without transcoding (or without the file): say so once, then stay quiet.
            self.music_supported = False
            log.warning("media.rtpengine.music_unsupported: %s; hold music is off for rtpengine calls", exc)
            return
        call.playing.add(leg)
        call.payload[leg] = payload_type

    def announce(self, call_id: str, leg: str, payload_type: int, pcm: Pcm) -> None:
        """Play a prompt to ``leg`` once (a queue position), then its hold music again if it had
        music: rtpengine's player plays one file at a time, so the prompt replaces the music."""
        call = self._calls.get(call_id)
        if call is None or leg not in LEGS or self.prompt_dir is None:
            return
        _cancel_resume(call, leg)
        self._codec_first(call_id, call, leg, payload_type, "announce")
        source = self._source(prompt_wav(self.prompt_dir, pcm))
        try:
            reply = self.client.request(
                "play media", **{"call-id": call_id, "from-tag": leg, "repeat-times": 1, **source}
            )
        except NgError as exc:
            log.warning("media.rtpengine.announce_failed call=%s leg=%s: %s", call_id, leg, exc)
            return
        if leg not in call.playing:  # no music before the prompt: silence after it
            return
        duration_s = int(reply.get("duration") or len(pcm) // 8) / 1000
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            log.warning(
                "media.rtpengine.no_loop call=%s leg=%s: music not resumed after the prompt", call_id, leg
            )
            return
        pt = call.payload.get(leg, payload_type)
        # The music starts again from its beginning (rtpengine has no resume), 20 ms after the prompt.
        call.resume[leg] = loop.call_later(duration_s + 0.02, self._resume_music, call_id, leg, pt)

    def _resume_music(self, call_id: str, leg: str, payload_type: int) -> None:
        call = self._calls.get(call_id)
        if call is None or leg not in call.playing:
            return
        call.resume.pop(leg, None)
        call.playing.discard(leg)
        self.music(call_id, leg, payload_type, True)

    def close(self, call_id: str) -> None:
        call = self._calls.pop(call_id, None)
        if call is None:
            return
        for pending in call.resume.values():
            pending.cancel()
        try:
            reply = self.client.request("delete", **{"call-id": call_id, "from-tag": "a", "delete delay": 0})
        except NgError as exc:
            # rtpengine times the call out by itself (--timeout, 60 s without media).
            self._failed(call_id, "delete", exc)
            return
        self.finished[call_id] = leg_stats(stream_stats(reply))
        while len(self.finished) > self.keep_stats:
            self.finished.popitem(last=False)

    def close_all(self) -> None:
        for call_id in list(self._calls):
            self.close(call_id)
        self.client.close()

    def _source(self, wav: Path, blob: bytes | None = None) -> dict[str, Any]:
        """What ``play media`` plays: the file by name to a daemon on this host, its bytes to one
        elsewhere (which has no such file)."""
        if self.music_blob:
            return {"blob": blob if blob is not None else wav.read_bytes()}
        return {"file": str(wav)}

    # -- signalling ------------------------------------------------------------------------------
    def _codec_first(self, call_id: str, call: _Call, leg: str, payload_type: int, why: str) -> None:
        if payload_type in CODECS and call.codecs[leg][0] != payload_type:
            # rtpengine's player encodes in the codec the offer/answer settled on, which follows
            # the answer's order: both sides list the engine's payload type first (forwarding is
            # unaffected: rtpengine passes any payload type through).
            order = (payload_type, *(pt for pt in CODECS if pt != payload_type))
            call.codecs = dict.fromkeys(LEGS, order)
            self._resignal(call_id, call, why)

    def _sdp(self, call: _Call, leg: str) -> str:
        address, port = call.remote[leg]
        return placeholder_sdp(address, port, call.codecs[leg], call.session)

    def _offer(self, call_id: str, call: _Call, to_tag: bool = False) -> tuple[str, int]:
        fields: dict[str, Any] = {"call-id": call_id, "from-tag": "a", "sdp": self._sdp(call, "a")}
        if to_tag:
            fields["to-tag"] = "b"
        reply = self.client.request("offer", flags=list(FLAGS), **fields, **self._tos())
        return sdp_media_address(str(reply.get("sdp", "")))

    def _answer(self, call_id: str, call: _Call) -> tuple[str, int]:
        fields = {"call-id": call_id, "from-tag": "a", "to-tag": "b", "sdp": self._sdp(call, "b")}
        reply = self.client.request("answer", flags=list(FLAGS), **fields, **self._tos())
        return sdp_media_address(str(reply.get("sdp", "")))

    def _tos(self) -> dict[str, int]:
        """The ng ``TOS`` key: rtpengine marks the call's outgoing RTP with it, whatever its own
        ``--tos`` says (unset by default: rtpengine's packets went out unmarked, issue 19 part 4)."""
        return {} if self.tos is None else {"TOS": self.tos}

    def _resignal(self, call_id: str, call: _Call, why: str) -> None:
        """Offer and answer again with both legs' current SDP (two round trips, ~0.3 ms)."""
        try:
            self._offer(call_id, call, to_tag=True)
            self._answer(call_id, call)
        except (NgError, MediaError) as exc:
            self._failed(call_id, why, exc)

    def _failed(self, call_id: str, what: str, exc: Exception) -> None:
        if isinstance(exc, NgUnreachable):
            self._down_until = self.clock() + self.retry_after_s
            log.error(
                "media.rtpengine.unreachable call=%s %s: %s (not asked again for %g s)",
                call_id,
                what,
                exc,
                self.retry_after_s,
            )
        else:
            log.error("media.rtpengine.refused call=%s %s: %s", call_id, what, exc)


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def rtpengine_anchor(ng: str, data_dir: str | Path, *, timeout_s: float = 0.5) -> RtpengineAnchor:
    """The anchor for ``CENTREX_RTPENGINE_NG``; the hold music goes by file name to a daemon on
    this host and as bytes (``blob``) to one elsewhere."""
    host, port = parse_ng_address(ng)
    return RtpengineAnchor(
        NgClient(host, port, timeout_s=timeout_s),
        music_file=hold_music_wav(data_dir),
        music_blob=not is_loopback(host),
    )
