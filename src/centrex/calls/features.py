"""PBX feature codes: the defaults, a tenant's own codes, and what a dialled string asks for.

The contracts sell the features, not their digits: voip-service-guide.txt §III.2 ("Features":
2.1 Enhanced Voice-mail, 2.3 Attendant Console, …) and hosted-pbx.txt 1.b (Feature Set
Enhancements: ii. Call Center Agents and Queues, v. Voice Mailbox). The digits are the usual
ones: the NANP vertical service codes where one exists (*67 per-call caller-ID blocking) and the
codes business PBXs have long used for the rest (*97/*98 voicemail, *70/*71 park, *8 pickup).
A tenant may change any of them (issue 4 point 1); ``tenants.feature_codes`` stores only the
codes it changed, so a later change of a default reaches every tenant that kept it.

Pure functions and frozen data, no I/O: the directory computes a tenant's ``FeatureCodes`` once
when it loads the tenant, and the call engine asks it ``match(dialled)`` for every call.

The on-demand recording code (``*1``, recording_settings.feature_code) is not in this table: it is
keyed *during* a call as RFC 4733 events, never dialled, so it cannot clash with these.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass

from centrex.e911.numbers import DIALLED_CODES


class Argument(enum.Enum):
    """What may follow a feature's code in the dialled string."""

    NONE = "none"  # the code alone
    OPTIONAL = "optional"  # the code, or the code + digits (a park slot, an extension)
    REQUIRED = "required"  # the code + digits (a queue's extension)
    DIAL_STRING = "dial_string"  # the code + whatever is dialled next (*67 + a number)


@dataclass(frozen=True, slots=True)
class Feature:
    name: str
    code: str  # the default
    argument: Argument
    what: str


# The defaults, as data. The engine's constants before issue 4 point 1 (PARK_CODE, …) are these.
FEATURES: tuple[Feature, ...] = (
    Feature("privacy", "*67", Argument.DIAL_STRING, "caller ID blocked for this call (RFC 3325 Privacy: id)"),
    Feature("voicemail", "*97", Argument.NONE, "the caller's own mailbox"),
    Feature("voicemail_login", "*98", Argument.NONE, "any mailbox: asks for the mailbox and PIN"),
    Feature("conference", "*55", Argument.NONE, "conference bridges: asks for the bridge and PIN"),
    Feature("park", "*70", Argument.OPTIONAL, "transfer (REFER) a call to *70<slot>, or *70 for a free slot"),
    Feature("retrieve", "*71", Argument.OPTIONAL, "*71<slot> takes a parked call back, *71 the oldest"),
    Feature("pickup", "*8", Argument.OPTIONAL, "*8<ext> answers a call ringing ext, *8 one ringing a group"),
    Feature("agent_login", "*45", Argument.REQUIRED, "*45<queue ext> logs the caller in as an agent"),
    Feature("agent_logout", "*46", Argument.REQUIRED, "*46<queue ext> logs the caller out"),
    # Asterisk/FreePBX use *80 for intercom; here *8 is pickup and would begin it (the prefix
    # rule below), so the default is *90 (pbx/paging.py; a tenant may change it like the others).
    Feature("intercom", "*90", Argument.REQUIRED, "*90<ext> calls ext with auto-answer (intercom)"),
)
BY_NAME: Mapping[str, Feature] = {f.name: f for f in FEATURES}
DEFAULT_CODES: Mapping[str, str] = {f.name: f.code for f in FEATURES}

# What the app server answers for the features that are apps (its Request-URI user).
APPS: Mapping[str, str] = {"voicemail": "vm-main", "voicemail_login": "vm-login", "conference": "conf-main"}

CODE_SYNTAX = re.compile(r"[*#][0-9]{1,4}")  # * or #, then digits: 2-5 keys in all
_EMERGENCY = DIALLED_CODES  # 911 and its test number (e911/numbers.py), also inside 9911, *911, #9339, …


@dataclass(frozen=True, slots=True)
class Match:
    feature: str
    argument: str  # what followed the code ("" when nothing did)


@dataclass(frozen=True, slots=True)
class Problem:
    """One broken rule of a code table: which feature, which rule, in words."""

    feature: str
    rule: str  # unknown_feature, code_syntax, emergency, unique, prefix
    message: str


@dataclass(frozen=True)
class FeatureCodes:
    """A tenant's effective table: every feature with its code (its own, else the default)."""

    codes: Mapping[str, str]
    # (code, feature) longest code first, so a code is matched before any shorter prefix of it
    # (a valid table has none; a stored one written before a rule existed still matches sanely).
    _order: tuple[tuple[str, str], ...] = ()

    def code(self, feature: str) -> str:
        return self.codes[feature]

    def match(self, dialled: str) -> Match | None:
        """The feature ``dialled`` asks for and its argument, or None.

        A code without an argument matches only exactly; one with a slot, an extension or a queue
        matches when digits follow (``*8`` + ``1002``); privacy takes whatever is dialled after it.
        """
        for code, name in self._order:
            if not dialled.startswith(code):
                continue
            rest = dialled[len(code) :]
            kind = BY_NAME[name].argument
            if kind is Argument.DIAL_STRING and rest:
                return Match(name, rest)
            if kind is Argument.NONE and not rest:
                return Match(name, "")
            if kind is Argument.OPTIONAL and (not rest or rest.isdigit()):
                return Match(name, rest)
            if kind is Argument.REQUIRED and rest.isdigit():
                return Match(name, rest)
        return None


def _table(codes: Mapping[str, str]) -> FeatureCodes:
    order = tuple(sorted(((c, n) for n, c in codes.items()), key=lambda cn: (-len(cn[0]), cn[0])))
    return FeatureCodes(dict(codes), order)


DEFAULTS = _table(DEFAULT_CODES)


def merge(overrides: Mapping[str, str | None] | None) -> dict[str, str]:
    """The effective name → code table: the defaults with the tenant's own codes over them. A
    ``None`` or a name that is no feature (stored before a feature was renamed) is left out."""
    codes = dict(DEFAULT_CODES)
    for name, code in (overrides or {}).items():
        if name in codes and isinstance(code, str):
            codes[name] = code
    return codes


def effective(overrides: Mapping[str, str] | None) -> FeatureCodes:
    """The tenant's table from its stored overrides (``tenants.feature_codes``; None = defaults)."""
    if not overrides:
        return DEFAULTS
    return _effective(tuple(sorted((k, v) for k, v in overrides.items() if isinstance(v, str))))


@functools.lru_cache(maxsize=4096)
def _effective(items: tuple[tuple[str, str], ...]) -> FeatureCodes:
    # Tenants reload every few seconds (calls/directory.py CachedDirectory); the table is built
    # once per distinct set of overrides, not once per load.
    return _table(merge(dict(items)))


def apply_patch(stored: Mapping[str, str] | None, patch: Mapping[str, str | None]) -> dict[str, str]:
    """The overrides to store after a change: ``None`` resets a feature to its default, and a code
    equal to the default is not stored either (only what the tenant changed is kept)."""
    out = dict(stored or {})
    for name, code in patch.items():
        if code is None or DEFAULT_CODES.get(name) == code:
            out.pop(name, None)
        else:
            out[name] = code
    return out


def is_emergency_like(code: str) -> bool:
    """911 or 933 anywhere in the digits: someone keying *911 or #9911 in a hurry means 911, and a
    feature there would answer instead of the PSAP (the switch routes 911 and 9911 always)."""
    digits = code[1:]
    return any(e in digits for e in _EMERGENCY)


def validate(overrides: Mapping[str, object]) -> list[Problem]:
    """Every rule a tenant's codes break, in feature order; [] when the table can be used.

    ``overrides`` are the tenant's own codes (name → code); they are checked together with the
    defaults they leave in place, since a new code can clash with a default.

    - unknown_feature: the name is not a feature of FEATURES;
    - code_syntax: ``*`` or ``#`` then digits, 2-5 keys in all (a phone's keypad; no letters);
    - emergency: no 911/933 inside a code (``is_emergency_like``);
    - unique: two features with one code;
    - prefix: no code may begin another. Where the shorter takes an argument (``*8`` + an
      extension) the longer could never be reached; where neither does, phones with a digit map
      send the shorter as soon as it is complete, so the longer is as good as unreachable.
    """
    problems: list[Problem] = []
    codes = dict(DEFAULT_CODES)
    for name, code in overrides.items():
        if name not in BY_NAME:
            known = ", ".join(DEFAULT_CODES)
            problems.append(Problem(name, "unknown_feature", f"'{name}' is not a feature code ({known})"))
            continue
        if not isinstance(code, str) or not CODE_SYNTAX.fullmatch(code):
            problems.append(
                Problem(name, "code_syntax", f"{name}: {code!r} is not * or # followed by 1-4 digits")
            )
            codes.pop(name)
            continue
        if is_emergency_like(code):
            problems.append(
                Problem(name, "emergency", f"{name}: {code} contains 911 or 933, which always reach 911")
            )
        codes[name] = code
    order = [f.name for f in FEATURES if f.name in codes]
    for i, name in enumerate(order):
        for other in order[:i]:
            # Reported against the feature the tenant changed (the defaults never clash).
            who, them = (name, other) if name in overrides else (other, name)
            mine, theirs = codes[who], codes[them]
            if mine == theirs:
                problems.append(Problem(who, "unique", f"{who}: {mine} is already the code of {them}"))
            elif mine.startswith(theirs) or theirs.startswith(mine):
                short, long_ = (them, who) if len(theirs) < len(mine) else (who, them)
                problems.append(
                    Problem(
                        who,
                        "prefix",
                        f"{who}: {mine} and {them}'s {theirs} overlap: {codes[short]} ({short}) begins "
                        f"{codes[long_]} ({long_}), so {long_} could not be dialled",
                    )
                )
    return problems
