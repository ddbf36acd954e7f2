"""Settings, typed and in one place (pydantic-settings).

Where a value comes from, strongest first: a command-line flag (``centrex serve --sip-port``), the
environment (``CENTREX_*``, table ENV below), the TOML file named by ``--config`` or
``CENTREX_CONFIG`` (flat keys named as the fields, e.g. ``sip_port = 5060``), the default here.
A bad value stops the program with one line naming the setting where it came from
(``CENTREX_SIP_PORT: ...``, ``centrex.toml: sip_port: ...``); an unknown key in the file too.

This module imports only the standard library, pydantic and the pure parts of sip/ and billing/:
store/db.py imports it (normalize_db_url), so it must never import the store or a service.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from contextvars import ContextVar
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from centrex.billing.periods import business_calendar
from centrex.ops.business_hours import parse_hours, parse_zone
from centrex.sip.digest import ALGORITHMS

MEDIA_RELAYS = ("builtin", "rtpengine")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
Port = Annotated[int, Field(ge=0, le=65535)]

# The file of the current load_settings() call; CENTREX_CONFIG when none was given.
_config_file: ContextVar[Path | None] = ContextVar("centrex_config_file", default=None)


class SettingsError(ValueError):
    """A setting with a bad value: ``str()`` is the one line to show, ``name`` where it came from."""

    def __init__(self, name: str, message: str) -> None:
        self.name = name
        if not message.startswith(name):
            message = f"{name} {message[:1].lower()}{message[1:]}"
        super().__init__(message)


class Settings(BaseSettings):
    """Everything the program reads from its environment. Frozen: pass changes to with_overrides."""

    model_config = SettingsConfigDict(
        env_prefix="CENTREX_",
        env_ignore_empty=True,  # CENTREX_X= means unset, as before this module
        frozen=True,
        extra="forbid",
        populate_by_name=True,
        validate_default=False,
    )

    # -- storage --------------------------------------------------------------------------------
    # CENTREX_DATA and CENTREX_DB are older than this module: the names stay. (An alias alone, not
    # AliasChoices with the field name: that would also read plain DATA_DIR / DB_URL variables.)
    data_dir: Path = Field(
        default_factory=lambda: Path("var").resolve(),
        validation_alias="CENTREX_DATA",
    )
    db_url: str = Field("", validation_alias="CENTREX_DB")
    # The key that encrypts webhook signing secrets at rest (store/secretbox.py); empty: secret.key in
    # the data dir. Keep it out of the database's backups (docs/deployment.md, "Secrets").
    secrets_key_file: str = ""
    # Recordings and voicemail audio (store/media_files.py); empty: the data dir. Several nodes mount
    # one shared directory here; rows keep paths relative to it (issue 19 §5).
    media_dir: str = ""

    # -- listening ------------------------------------------------------------------------------
    bind: str = "0.0.0.0"
    sip_port: Port = 5060
    sip_tls_port: Port = 5061
    # SIP over WebSocket for the browser softphone (RFC 7118; docs/softphone.md): ws:// and wss://
    # (the SIP TLS certificate) ports; unset: off. Their media goes through rtpengine (rtpengine_ng).
    sip_ws_port: Port | None = None
    sip_wss_port: Port | None = None
    http_port: Port = 8080
    rtp_ports: Annotated[tuple[int, int], NoDecode] = (20000, 30000)
    # SIP over TLS certificate and key files; empty: a self-signed one made in the data dir.
    sip_tls_cert: str = ""
    sip_tls_key: str = ""
    # HTTPS on the HTTP port (the API, the portal and phone provisioning at /provision/): both
    # files, or neither and TLS is terminated by a reverse proxy (docs/provisioning.md).
    http_tls_cert: str = ""
    http_tls_key: str = ""
    # Digest algorithms offered, most preferred first (RFC 8760). MD5,SHA-256 serves clients that
    # answer the first challenge whatever its algorithm (SIPp 3.6, old phones).
    sip_digest: Annotated[tuple[str, ...], NoDecode] = ("SHA-256", "MD5")
    # The source guard's request rate per source address (calls/guard.py GuardConfig defaults).
    sip_rate: float = Field(50.0, gt=0)
    sip_burst: float = Field(200.0, gt=0)
    # DSCP of SIP signalling (transport/dscp.py; docs/peering.md "DSCP"): cs3 (24, the default:
    # what phones, enterprise QoS policies and our peers' classifiers take as call signalling) or
    # cs5 (40, RFC 4594's Signaling class). Media is always EF (46).
    sip_dscp: Literal["cs3", "cs5"] = "cs3"

    # -- public address behind NAT (docs/switch.md "Public address and NAT") -------------------
    # The address phones and carriers reach this service at, when it differs from the one it binds
    # (a cloud host behind 1:1 NAT): written into Via, Contact and SDP. Empty: the bound address
    # (or a guess of the host's own when binding 0.0.0.0). Per listener / relay where they differ:
    # external_tls_ip for the TLS listener, external_media_ip for the relay's SDP (c= and o=).
    external_ip: str = ""
    external_tls_ip: str = ""
    external_media_ip: str = ""
    # Registrations over UDP whose Contact is not the address they came from (a phone behind NAT
    # that does not know its public address) are granted at most this many seconds, so the
    # phone's own re-REGISTER keeps its NAT binding open (calls/registrar.py ExpiryPolicy).
    sip_nat_expires: int = Field(60, ge=60, le=3600)

    # -- e-mail (ops/mailer.py); no host: nothing is sent, senders log that they could not --------
    smtp_host: str = ""
    smtp_port: Port = 25
    smtp_from: str = "centrex-911@localhost"
    smtp_starttls: bool = False
    smtp_user: str = ""
    smtp_password: str = Field("", repr=False)

    # -- the portal's log-in (api/portal.py; docs/portal-auth.md) ----------------------------------
    # Where people reach the portal (password-reset links point here); empty: http(s)://localhost:
    # <http_port>. An administrator without TOTP may only enrol when portal_require_totp_admins.
    portal_base_url: str = ""
    portal_require_totp_admins: bool = False
    portal_session_idle_s: int = Field(1800, ge=60)
    portal_session_absolute_s: int = Field(43200, ge=300)
    portal_token_ttl_s: int = Field(3600, ge=60, le=86400)

    # -- billing ----------------------------------------------------------------------------------
    # Holidays that are not business days in billing cure periods (billing/periods.py
    # business_calendar): "US" = Federal Reserve bank holidays, "none" = Monday to Friday only.
    business_calendar: str = "US"

    # -- alarms and trouble tickets (ops/alarms.py, ops/monitor.py; hosted-pbx.txt Monitoring 1-2) --
    # The operator's working hours on business days (business_calendar), for priority 2's "24
    # business hours" (ops/business_hours.py), in its time zone.
    business_hours: str = "08:00-17:00"
    business_timezone: str = "America/New_York"
    # Who is told of every alarm and ticket, and who when a response clock runs out: e-mail
    # addresses and http(s) webhook URLs, comma-separated. Webhooks are signed Standard-Webhooks
    # style with alarm_webhook_secret ("whsec_" + base64).
    alarm_notify: Annotated[tuple[str, ...], NoDecode] = ()
    alarm_escalate: Annotated[tuple[str, ...], NoDecode] = ()
    alarm_webhook_secret: str = Field("", repr=False)
    # How often this node polls its components (SIP listeners, database, relay or rtpengine,
    # carriers' gateways, disk), and the free share of the data dir's disk below which it alarms.
    monitor: bool = True
    monitor_interval_s: float = Field(30.0, gt=0)
    monitor_disk_min_free: float = Field(0.10, ge=0, le=1)

    # -- webhooks (issue 16 §3; cpaas/delivery.py, docs/webhooks.md) --------------------------------
    # The outbox's delivery worker runs in `centrex serve` (False: another node sends). A request
    # gets webhook_timeout_s to answer; webhook_retry_scale multiplies the retry schedule (5 s …
    # 10 h; a demo or test may shorten it).
    webhooks: bool = True
    webhook_timeout_s: float = Field(10.0, gt=0)
    webhook_retry_scale: float = Field(1.0, gt=0)
    # Refuse webhooks to loopback and private addresses too (link-local, where clouds serve
    # instance metadata, is always refused): cpaas/targets.py.
    webhook_block_private: bool = False

    # -- insights (issue 20 §3; insights/, docs/insights.md) ------------------------------------------
    # Every call, message and flow step counted in memory and flushed every insights_flush_s into the
    # real-time, hourly and daily tiers; alert rules' thresholds evaluated every insights_alert_every_s.
    insights: bool = True
    insights_flush_s: float = Field(1.0, gt=0, le=60)
    insights_alert_every_s: float = Field(10.0, gt=0, le=3600)

    # -- media ------------------------------------------------------------------------------------
    # "builtin" (media/relay.py, in this process) or "rtpengine" (the Debian rtpengine-daemon,
    # driven over its ng port at rtpengine_ng).
    media_relay: str = "builtin"
    rtpengine_ng: str = "127.0.0.1:2223"
    # A call whose media stopped both ways this long is hung up (issue 13 §3).
    media_timeout_s: float = Field(60.0, gt=0)

    # STIR/SHAKEN (issue 17 §5; docs/switch.md "Caller identity and STIR/SHAKEN"): outbound calls
    # to carriers are signed with the EC P-256 key in shaken_key_file; shaken_cert_url is the x5u
    # where its certificate (shaken_cert_file, checked against the key at start) is published.
    # Incoming calls' Identity is verified against the CA bundle in shaken_ca_file (empty: not).
    shaken_cert_url: str = ""
    shaken_key_file: str = ""
    shaken_cert_file: str = ""
    shaken_ca_file: str = ""

    # Name servers for trunk gateways named by host name (RFC 3263), "host" or "host:port" (one
    # port for all); empty: the system's resolv.conf.
    dns_servers: Annotated[tuple[str, ...], NoDecode] = ()

    # -- calls that always end (issue 13 §3; calls/service.py SipConfig) ---------------------------
    # How often this node writes its heartbeat: after a crash an answered call is billed up to it.
    sip_heartbeat_s: float = Field(10.0, gt=0)

    # -- several nodes on one PostgreSQL (docs/scale-out.md) ---------------------------------------
    # This node's name, unique among the nodes sharing the store (default: the host name); a node
    # restarted under the same name closes the calls of its earlier life at once.
    node_name: str = Field("", max_length=128)
    # A node whose heartbeat is this old is dead: a survivor closes and bills its calls (0: three
    # heartbeats).
    node_stale_s: float = Field(0.0, ge=0)
    # RFC 4028 session timers: the interval asked for and the shortest accepted (90 s by the RFC;
    # less only with sip_test_short_timers, which tests set and no deployment should).
    sip_session_expires: int = Field(1800, ge=1)
    sip_min_se: int = Field(90, ge=1)
    sip_test_short_timers: bool = False

    # -- operations -------------------------------------------------------------------------------
    # WARNING: what the service printed before logging was configured (a call's INFO lines cost
    # ~30 µs each, bench/bench_logging.py); INFO adds a line per call, registration and job run.
    log_level: str = "WARNING"
    log_format: Literal["console", "json"] = "console"
    # Whether this node runs the scheduled jobs (ops/scheduler.py); nodes sharing PostgreSQL take
    # turns through a lock, so leaving it on everywhere is safe.
    jobs: bool = True
    # Jobs this node never runs, e.g. "billing-run" where the operator closes months by hand
    # (``centrex billing run``); names as ``centrex jobs list`` shows them, checked at start.
    jobs_skip: Annotated[tuple[str, ...], NoDecode] = ()
    # Seconds after start before the first pass of jobs: a restarted node serves its phones first.
    jobs_delay_s: float = Field(60.0, ge=0)
    # Who may read /metrics without an operator token (ops/metrics.py): networks, comma-separated
    # CIDRs; "none" (or [] in the TOML file): nobody, operator token only. Default: this host.
    metrics_allow: Annotated[tuple[str, ...], NoDecode] = ("127.0.0.0/8", "::1/128")
    # cpaas.txt §3.2: the inactive-accounts job terminates accounts idle over 120 days when on (their
    # 30-day export window opens); off, it only reports them.
    inactive_deactivate: bool = False
    # Voice apps (issue 16 §1): the public base URL of the Twilio-compatible API, where the
    # RecordingUrl given to apps points (empty: http://127.0.0.1:<http_port>).
    cpaas_public_url: str = ""
    # Messaging (issue 16 §4, cpaas/messaging/runtime.py): the SMS carrier — "" none (messages stay
    # queued), "simulator" (the built-in SMSC on sms_simulator_port, 0: a free port),
    # "smpp://system_id:password@host:port", or an HTTP JSON carrier's "https://…" URL.
    sms_carrier: str = Field("", repr=False)
    sms_carrier_token: str = Field("", repr=False)  # the HTTP carrier's key, both ways
    sms_simulator_port: int = Field(0, ge=0, le=65535)
    sms_simulator_failing: Annotated[tuple[str, ...], NoDecode] = ()  # handsets the simulator fails
    # Price per segment recorded on each message detail record (USD; the invoice reads them).
    sms_price_per_segment: Decimal = Field(Decimal("0.0079"), ge=0)
    sms_inbound_price_per_segment: Decimal = Field(Decimal("0.0079"), ge=0)
    # Calls placed through the API (issue 16 §2): at most this many a second per account (Twilio's
    # default CPS is 1); more wait in a queue of at most cpaas_calls_queue per account, past which
    # the API answers 429 (Twilio code 20429).
    cpaas_calls_cps: float = Field(default=1.0, gt=0, le=1000)
    cpaas_calls_queue: int = Field(default=100, ge=1, le=100000)
    # Flows (issue 20 §1, cpaas/flows/runtime.py): an execution taking more steps than this ends
    # failed (a loop in the flow), so a mistake cannot run for ever.
    flow_max_steps: int = Field(default=1000, ge=10, le=100000)
    # make-http-request may call loopback/private addresses (the service's own network): off, as a
    # tenant's flow calls public REST services (cpaas.txt §2.2.7); on for a lab or an intranet.
    flow_http_private: bool = False
    # Campaigns (issue 20 §2, docs/campaigns.md): the runner in `centrex serve` (off: another node
    # runs them), how often it looks for due campaigns, and the highest throttle a campaign may ask.
    campaigns: bool = True
    campaign_tick_s: float = Field(default=1.0, gt=0, le=60)
    campaign_max_rate_per_s: float = Field(default=50.0, gt=0, le=10000)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        path = config_file()
        if path is None:
            return (init_settings, env_settings)
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=path))

    # -- validation: each message is completed with the setting's name by SettingsError -----------
    @field_validator("data_dir", mode="after")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.resolve()

    @field_validator("rtp_ports", mode="before")
    @classmethod
    def _port_range(cls, value: Any) -> Any:
        return parse_port_range(value) if isinstance(value, str) else value

    @field_validator(
        "jobs_skip", "dns_servers", "alarm_notify", "alarm_escalate", "sms_simulator_failing", mode="before"
    )
    @classmethod
    def _names(cls, value: Any) -> tuple[str, ...]:
        items = value.split(",") if isinstance(value, str) else list(value)
        return tuple(str(n).strip() for n in items if str(n).strip())

    @field_validator("metrics_allow", mode="before")
    @classmethod
    def _networks(cls, value: Any) -> tuple[str, ...]:
        if isinstance(value, str) and value.strip().lower() == "none":
            return ()  # an empty variable means "unset" (env_ignore_empty): "none" is nobody
        items = value.split(",") if isinstance(value, str) else list(value)
        names = tuple(str(n).strip() for n in items if str(n).strip())
        for name in names:
            try:
                ipaddress.ip_network(name, strict=False)
            except ValueError:
                raise ValueError(f"each entry must be an address or network (CIDR), got {name!r}") from None
        return names

    @field_validator("external_ip", "external_tls_ip", "external_media_ip", mode="before")
    @classmethod
    def _external(cls, value: Any) -> str:
        text = str(value).strip().strip("[]")
        if text:
            try:
                ipaddress.ip_address(text)
            except ValueError:
                raise ValueError(f"must be an IP address (e.g. 203.0.113.10), got {value!r}") from None
        return text

    @model_validator(mode="after")
    def _tls_pair(self) -> Settings:
        if bool(self.shaken_key_file) != bool(self.shaken_cert_url):
            raise ValueError("shaken_key_file and shaken_cert_url: both or neither (CENTREX_SHAKEN_*)")
        if bool(self.http_tls_cert) != bool(self.http_tls_key):
            raise ValueError("http_tls_cert and http_tls_key: both or neither (CENTREX_HTTP_TLS_CERT/_KEY)")
        return self

    @field_validator("sip_digest", mode="before")
    @classmethod
    def _digest(cls, value: Any) -> tuple[str, ...]:
        items = value.split(",") if isinstance(value, str) else list(value)
        names = tuple(str(a).strip().upper() for a in items if str(a).strip())
        bad = [a for a in names if a not in ALGORITHMS]
        if bad or not names:
            raise ValueError(f"each digest algorithm must be one of {', '.join(ALGORITHMS)}, got {value!r}")
        return names

    @field_validator("business_calendar", mode="before")
    @classmethod
    def _calendar(cls, value: Any) -> str:
        return business_calendar(str(value)).name

    @field_validator("business_hours", mode="before")
    @classmethod
    def _hours(cls, value: Any) -> str:
        opens, closes = parse_hours(str(value))
        return f"{opens:%H:%M}-{closes:%H:%M}"

    @field_validator("business_timezone", mode="before")
    @classmethod
    def _zone(cls, value: Any) -> str:
        return parse_zone(str(value)).key

    @field_validator("alarm_notify", "alarm_escalate", mode="after")
    @classmethod
    def _contacts(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for contact in value:
            if not contact.startswith(("http://", "https://")) and "@" not in contact:
                raise ValueError(f"each contact must be an e-mail address or an http(s) URL, got {contact!r}")
        return value

    @field_validator("media_relay", mode="before")
    @classmethod
    def _relay(cls, value: Any) -> str:
        relay = str(value).strip().lower()
        if relay not in MEDIA_RELAYS:
            raise ValueError(f"must be one of {', '.join(MEDIA_RELAYS)}, got {relay!r}")
        return relay

    @field_validator("rtpengine_ng", mode="before")
    @classmethod
    def _ng(cls, value: Any) -> str:
        # The same rule as calls/rtpengine_anchor.py parse_ng_address (which must not be imported
        # here: it brings the media stack).
        text = str(value)
        host, sep, port_s = text.strip().rpartition(":")
        host = host.strip("[]")
        if not sep or not host or not port_s.isdigit() or not 0 < int(port_s) < 65536:
            raise ValueError(f"must look like host:port (e.g. 127.0.0.1:2223), got {text!r}")
        return f"[{host}]:{port_s}" if ":" in host else f"{host}:{port_s}"

    @field_validator("log_level", mode="before")
    @classmethod
    def _level(cls, value: Any) -> str:
        level = str(value).strip().upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}, got {value!r}")
        return level

    @property
    def database_url(self) -> str:
        return normalize_db_url(self.db_url or f"sqlite:///{self.data_dir / 'centrex.sqlite3'}")

    @property
    def media_root(self) -> Path:
        return Path(self.media_dir).resolve() if self.media_dir else self.data_dir

    @property
    def secrets_key_path(self) -> Path:
        return Path(self.secrets_key_file) if self.secrets_key_file else self.data_dir / "secret.key"

    def with_overrides(self, **changes: object) -> Settings:
        """A copy with the given values (None: unchanged), validated: SettingsError names the field
        as ``--flag-name`` since this is how the command line sets them."""
        values = self.model_dump()
        values.update({k: v for k, v in changes.items() if v is not None})
        try:
            return type(self).model_validate(values)
        except ValidationError as exc:
            field = _first_field(exc)
            raise SettingsError("--" + field.replace("_", "-"), _first_message(exc)) from None


ENV: dict[str, str] = {
    name: (
        "CENTREX_DATA"
        if name == "data_dir"
        else "CENTREX_DB"
        if name == "db_url"
        else f"CENTREX_{name.upper()}"
    )
    for name in Settings.model_fields
}
"""The environment variable of each setting."""


def config_file() -> Path | None:
    chosen = _config_file.get()
    if chosen is not None:
        return chosen
    named = os.environ.get("CENTREX_CONFIG", "").strip()
    return Path(named) if named else None


def load_settings(config: Path | None = None, **flags: object) -> Settings:
    """The settings from the environment and the file (``config``, else CENTREX_CONFIG), with
    ``flags`` (None: not given) on top. SettingsError (a ValueError) names a bad setting."""
    path = config if config is not None else config_file()
    from_file = _read_toml(path) if path is not None else {}
    token = _config_file.set(path)
    try:
        given = {k: v for k, v in flags.items() if v is not None}
        return Settings(**given)  # type: ignore[arg-type]
    except ValidationError as exc:
        field = _first_field(exc)
        if field in flags and flags[field] is not None:
            where = "--" + field.replace("_", "-")
        elif ENV.get(field, "") in os.environ:
            where = ENV[field]
        elif field in from_file or (path is not None and field not in Settings.model_fields):
            where = f"{path}: {field}"  # the file's key
        else:
            where = field
        raise SettingsError(where, _first_message(exc)) from None
    finally:
        _config_file.reset(token)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise SettingsError(str(path), "no such configuration file") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(str(path), f"not valid TOML: {exc}") from None


def _first_field(exc: ValidationError) -> str:
    loc = exc.errors()[0]["loc"]
    name = str(loc[0]) if loc else ""
    return {"CENTREX_DATA": "data_dir", "CENTREX_DB": "db_url"}.get(name, name)


def _first_message(exc: ValidationError) -> str:
    error = exc.errors()[0]
    if error["type"] == "extra_forbidden":
        return f"unknown setting (known: {', '.join(sorted(Settings.model_fields))})"
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] != "value_error" and "input" in error:
        message += f", got {error['input']!r}"
    return message


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
        raise ValueError(f"must look like A-B (e.g. 20000-30000), got {text!r}") from None
    if not (1024 <= low < high <= 65535):
        raise ValueError(f"{text!r}: need 1024 <= A < B <= 65535")
    if (high - low) < 2:
        raise ValueError(f"{text!r}: the range must hold at least one RTP/RTCP pair")
    return low, high
