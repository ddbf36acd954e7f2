"""Settings: command-line flags override CENTREX_* environment variables, which override defaults."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path


def _default_data_dir() -> Path:
    return Path(os.environ.get("CENTREX_DATA", "var")).resolve()


@dataclass(frozen=True)
class Settings:
    data_dir: Path = field(default_factory=_default_data_dir)
    db_url: str = ""
    bind: str = "0.0.0.0"
    sip_port: int = 5060
    sip_tls_port: int = 5061
    http_port: int = 8080
    rtp_ports: tuple[int, int] = (20000, 30000)
    # 911 notification e-mail (e911/notifier.py); no host means e-mail contacts cannot be told.
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_from: str = "centrex-911@localhost"
    smtp_starttls: bool = False
    smtp_user: str = ""
    smtp_password: str = field(default="", repr=False)
    # Holidays that are not business days in billing cure periods (billing/periods.py
    # business_calendar): "US" = Federal Reserve bank holidays, "none" = Monday to Friday only.
    business_calendar: str = "US"
    # Media relay (calls/rtpengine_anchor.py): "builtin" (media/relay.py, in this process) or
    # "rtpengine" (the Debian rtpengine-daemon, driven over its ng port at rtpengine_ng).
    media_relay: str = "builtin"
    rtpengine_ng: str = "127.0.0.1:2223"

    @property
    def database_url(self) -> str:
        return normalize_db_url(self.db_url or f"sqlite:///{self.data_dir / 'centrex.sqlite3'}")

    def with_overrides(self, **changes: object) -> Settings:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})  # type: ignore[arg-type]


def normalize_db_url(url: str) -> str:
    """Accept plain postgres URLs (as psql takes them) and use the psycopg 3 driver."""
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            return "postgresql+psycopg://" + url[len(plain) :]
    return url


def parse_port_range(text: str) -> tuple[int, int]:
    """'20000-30000' -> (20000, 30000), with an error naming what is wrong."""
    try:
        low_s, high_s = text.split("-", 1)
        low, high = int(low_s), int(high_s)
    except ValueError:
        raise ValueError(f"--rtp-ports must look like A-B (e.g. 20000-30000), got {text!r}") from None
    if not (1024 <= low < high <= 65535):
        raise ValueError(f"--rtp-ports {text!r}: need 1024 <= A < B <= 65535")
    if (high - low) < 2:
        raise ValueError(f"--rtp-ports {text!r}: the range must hold at least one RTP/RTCP pair")
    return low, high


def load_settings() -> Settings:
    env = os.environ
    s = Settings(db_url=env.get("CENTREX_DB", ""))
    if "CENTREX_BIND" in env:
        s = replace(s, bind=env["CENTREX_BIND"])
    if "CENTREX_SIP_PORT" in env:
        s = replace(s, sip_port=int(env["CENTREX_SIP_PORT"]))
    if "CENTREX_HTTP_PORT" in env:
        s = replace(s, http_port=int(env["CENTREX_HTTP_PORT"]))
    if "CENTREX_RTP_PORTS" in env:
        s = replace(s, rtp_ports=parse_port_range(env["CENTREX_RTP_PORTS"]))
    s = _smtp_settings(s, env)
    s = _media_settings(s, env)
    if "CENTREX_BUSINESS_CALENDAR" in env:
        from centrex.billing.periods import business_calendar

        s = replace(s, business_calendar=business_calendar(env["CENTREX_BUSINESS_CALENDAR"]).name)
    return s


def _smtp_settings(s: Settings, env: Mapping[str, str]) -> Settings:
    """CENTREX_SMTP_HOST, _PORT, _FROM, _STARTTLS (1/true/yes), _USER, _PASSWORD."""
    changes: dict[str, object] = {}
    for name in ("host", "from", "user", "password"):
        if f"CENTREX_SMTP_{name.upper()}" in env:
            changes[f"smtp_{name}"] = env[f"CENTREX_SMTP_{name.upper()}"]
    if "CENTREX_SMTP_PORT" in env:
        changes["smtp_port"] = int(env["CENTREX_SMTP_PORT"])
    if "CENTREX_SMTP_STARTTLS" in env:
        changes["smtp_starttls"] = env["CENTREX_SMTP_STARTTLS"].strip().lower() in {"1", "true", "yes", "on"}
    return replace(s, **changes)  # type: ignore[arg-type]


MEDIA_RELAYS = ("builtin", "rtpengine")


def _media_settings(s: Settings, env: Mapping[str, str]) -> Settings:
    """CENTREX_MEDIA_RELAY=builtin|rtpengine, CENTREX_RTPENGINE_NG=host:port."""
    if "CENTREX_MEDIA_RELAY" in env:
        relay = env["CENTREX_MEDIA_RELAY"].strip().lower()
        if relay not in MEDIA_RELAYS:
            raise ValueError(f"CENTREX_MEDIA_RELAY must be one of {', '.join(MEDIA_RELAYS)}, got {relay!r}")
        s = replace(s, media_relay=relay)
    if "CENTREX_RTPENGINE_NG" in env:
        from centrex.calls.rtpengine_anchor import parse_ng_address

        host, port = parse_ng_address(env["CENTREX_RTPENGINE_NG"])
        s = replace(s, rtpengine_ng=f"[{host}]:{port}" if ":" in host else f"{host}:{port}")
    return s
