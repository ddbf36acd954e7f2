"""Diversion (RFC 5806) and History-Info (RFC 7044) for a call forwarded off the switch: the
carrier and the called party see who forwarded the call and why (issue 17 §5; docs/switch.md
"Caller identity and STIR/SHAKEN"). Pure functions; pbx/user_routing.py adds the headers.
"""

from __future__ import annotations

# The forwarding reason (pbx/user_routing.py ``why``) as RFC 5806 §4 diversion-reason and as the
# RFC 4458 cause carried in the History-Info target (RFC 7044 §9.4).
_DIVERSION = {
    "always": ("unconditional", 302),
    "busy": ("user-busy", 486),
    "dnd": ("do-not-disturb", 480),
    "no_answer": ("no-answer", 408),
    "unavailable": ("unavailable", 503),
}


def external_number(destination: str) -> str | None:
    """A forwarding destination that is a telephone number, as E.164 (+…, or 10 / 1+10 NANP
    digits); None for anything else (an extension)."""
    raw = "".join(ch for ch in destination if ch not in " -().")
    digits = raw.lstrip("+")
    if not digits.isdigit():
        return None
    if raw.startswith("+") and 8 <= len(digits) <= 15:
        return raw
    if len(digits) == 10:
        return "+1" + digits
    if len(digits) == 11 and digits.startswith("1"):
        return "+" + digits
    return None


def diversion_headers(diverting: str, target: str, domain: str, why: str) -> tuple[tuple[str, str], ...]:
    """The headers of a call ``diverting`` (the forwarding user's number) sent on to ``target``."""
    reason, cause = _DIVERSION.get(why, ("unknown", 480))
    user_phone = ";user=phone" if diverting.startswith("+") else ""
    return (
        ("Diversion", f"<sip:{diverting}@{domain}{user_phone}>;reason={reason};counter=1"),
        (
            "History-Info",
            f"<sip:{diverting}@{domain}{user_phone}>;index=1,"
            f"<sip:{target}@{domain};user=phone;cause={cause}>;index=1.1;mp=1",
        ),
    )
