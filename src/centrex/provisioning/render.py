"""A phone's configuration as data (``PhoneConfig``) and its rendering through the vendor's
Jinja2 template (templates/<family>.j2). Pure: no store, no HTTP.

XML templates are rendered with autoescaping, so a label or a name with ``<`` or ``&`` stays
well-formed; the Yealink ``key = value`` format has no escaping, so values are stripped of line
breaks before they reach it (a label cannot inject a setting).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from centrex.provisioning.vendors import Family

TEMPLATES = Path(__file__).parent / "templates"
EMERGENCY_NUMBER = "911"


@dataclass(frozen=True, slots=True)
class Line:
    """A SIP account on the phone (the device's line)."""

    index: int
    username: str
    password: str
    domain: str
    display_name: str
    extension: str


@dataclass(frozen=True, slots=True)
class Key:
    """A programmable key (hosted-pbx.txt MAC 1 button row): line, speed dial or BLF."""

    position: int
    kind: str  # store.models.enums.ButtonKind value
    value: str
    label: str


@dataclass(frozen=True, slots=True)
class PhoneConfig:
    mac: str  # aa:bb:cc:dd:ee:ff
    family: Family
    model: str
    server_host: str
    server_port: int
    lines: tuple[Line, ...]
    keys: tuple[Key, ...] = ()
    time_zone: str = "UTC"
    location: str | None = None  # the registered 911 dispatchable location, one line
    emergency_number: str = EMERGENCY_NUMBER
    ntp_server: str = "pool.ntp.org"
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def mac_plain(self) -> str:
        return self.mac.replace(":", "")

    @property
    def utc_offset_hours(self) -> float:
        """The zone's standard (winter) offset, which Yealink and Polycom take with a DST rule."""
        return standard_offset_s(self.time_zone) / 3600

    @property
    def utc_offset_s(self) -> int:
        return standard_offset_s(self.time_zone)

    @property
    def posix_tz(self) -> str:
        return posix_tz(self.time_zone)

    @property
    def gmt_label(self) -> str:
        """``GMT-05:00``, as Cisco's Time_Zone and Grandstream's custom zone spell it."""
        s = standard_offset_s(self.time_zone)
        sign = "-" if s < 0 else "+"
        s = abs(s)
        return f"GMT{sign}{s // 3600:02d}:{s % 3600 // 60:02d}"


def valid_time_zone(name: str) -> bool:
    return name in _zones()


@functools.cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def standard_offset_s(name: str) -> int:
    try:
        zone = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return 0
    jan = datetime(2026, 1, 15, tzinfo=UTC).astimezone(zone)
    jul = datetime(2026, 7, 15, tzinfo=UTC).astimezone(zone)
    offsets = []
    for moment in (jan, jul):
        off, dst = moment.utcoffset(), moment.dst()
        if off is not None:
            offsets.append(int((off - (dst or timedelta(0))).total_seconds()))
    return min(offsets) if offsets else 0


@functools.cache
def posix_tz(name: str) -> str:
    """The zone's POSIX TZ rule (``EST5EDT,M3.2.0,M11.1.0``): the footer line of its TZif v2+ file,
    the form Grandstream and Linux-based phones take."""
    for base in (Path("/usr/share/zoneinfo"), *_tzdata_dirs()):
        path = base / name
        try:
            data = path.read_bytes()
        except OSError:
            continue
        if data.startswith(b"TZif") and data.endswith(b"\n"):
            footer = data[:-1].rsplit(b"\n", 1)[-1]
            return footer.decode("ascii", "replace")
    return "UTC0"


def _tzdata_dirs() -> list[Path]:
    try:
        import tzdata  # type: ignore[import-untyped]
    except ImportError:
        return []
    return [Path(tzdata.__file__).parent / "zoneinfo"]


def _one_line(value: object) -> str:
    return " ".join(str(value).split())


def _comment(value: object) -> str:
    """Text safe inside an XML comment: one line, no "--" (XML 1.0 §2.5)."""
    text = _one_line(value)
    while "--" in text:
        text = text.replace("--", "- -")
    return text.rstrip("-")


@functools.cache
def _environment(autoescape: bool) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True) if autoescape else False,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["one_line"] = _one_line
    env.filters["comment"] = _comment
    return env


def template_name(family: Family, boot: bool = False) -> str:
    return "polycom-master.j2" if boot else f"{family.value}.j2"


def render(config: PhoneConfig, boot: bool = False) -> str:
    """The file the phone asked for: its own, or (``boot``) Polycom's master file."""
    xml = boot or config.family is not Family.YEALINK
    return _environment(xml).get_template(template_name(config.family, boot)).render(c=config)


CONTENT_TYPES: dict[Family, str] = {
    Family.YEALINK: "text/plain; charset=utf-8",
    Family.POLYCOM: "application/xml; charset=utf-8",
    Family.GRANDSTREAM: "application/xml; charset=utf-8",
    Family.CISCO: "application/xml; charset=utf-8",
}
