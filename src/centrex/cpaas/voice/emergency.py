"""cpaas.txt §2.4.4: "ATMOSPHERE® CPAAS IS NOT INTENDED TO SUPPORT OR TRANSMIT ANY COMMUNICATIONS OR
CONTACT WITH EMERGENCY SERVICES" — so a voice app never dials 911 (nor the 933 read-back test). The
tenant's phones still reach 911 as always (calls/, e911/); only an app's <Dial> is refused.

The codes are e911/numbers.py's one definition; the dialled forms are those numbers/dialplan.py
accepts (N11, 1+N11, +1 N11, and after an outside-line prefix 9).
"""

from __future__ import annotations

import re

from centrex.e911.numbers import DIALLED_CODES

_FORMS = ("", "1", "9", "91")
_SIP_USER = re.compile(r"^(?:sips?:)?([^@;]+)")

REFUSAL = (
    "Dial to {value} refused: a voice app never dials emergency services (cpaas.txt §2.4.4); "
    "call 911 from a phone of the tenant"
)


def is_emergency(value: str) -> bool:
    """Is this <Number>, <Sip> user part or extension 911 or 933 in any dialled form?"""
    text = value.strip()
    if text.lower().startswith("sip"):
        m = _SIP_USER.match(text)
        text = m.group(1) if m else text
    digits = re.sub(r"[\s().\-]", "", text).lstrip("+")
    return any(digits == form + code for form in _FORMS for code in DIALLED_CODES)
