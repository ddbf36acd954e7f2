"""Phone models, their vendor families, and the file names each family asks for.

What a phone requests is fixed by its firmware (or by the profile rule the operator points it at):
Yealink ``<mac>.cfg`` (after the common ``y0000000000xx.cfg``), Polycom UC/VVX ``000000000000.cfg``
(the master file naming the per-phone files) then ``<mac>.cfg``, Grandstream ``cfg<mac>.xml``,
Cisco SPA/MPP ``<mac>.xml`` or ``spa<mac>.xml`` (their profile rule, e.g. ``/provision/$MA.xml``).
MACs in file names are 12 hex digits, any case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Family(StrEnum):
    YEALINK = "yealink"
    POLYCOM = "polycom"
    GRANDSTREAM = "grandstream"
    CISCO = "cisco"


# Model -> family. The model is stored per device (DeviceProvisioning.model); the family picks the
# template (templates/<family>.j2). Lower-case, vendor prefix first.
_FAMILY_MODELS: dict[Family, tuple[str, ...]] = {
    Family.YEALINK: ("t31p", "t33g", "t43u", "t46u", "t48u", "t53w", "t54w", "t57w"),
    Family.POLYCOM: ("vvx150", "vvx250", "vvx350", "vvx450", "vvx501", "vvx601"),
    Family.GRANDSTREAM: ("grp2612", "grp2614", "grp2616", "gxp2170", "gxp2160"),
    Family.CISCO: ("spa303", "spa504g", "spa525g2", "mpp6851", "mpp7841", "mpp8851"),
}
MODELS: dict[str, Family] = {f"{f.value}-{m}": f for f, models in _FAMILY_MODELS.items() for m in models}

BOOT_FILE = "000000000000.cfg"  # Polycom's master configuration file
_FILE = re.compile(r"^(cfg|spa)?([0-9a-fA-F]{12})\.(cfg|xml)$")


@dataclass(frozen=True, slots=True)
class Request:
    """What a file name asks for: the phone's MAC (``aa:bb:cc:dd:ee:ff``) or the Polycom boot file."""

    mac: str | None
    boot: bool = False
    prefix: str = ""
    extension: str = ""

    def served_by(self, family: Family) -> bool:
        """Whether a phone of ``family`` asks for this name (anything else is not its file)."""
        if self.boot:
            return family is Family.POLYCOM
        return {
            Family.YEALINK: (self.prefix, self.extension) == ("", "cfg"),
            Family.POLYCOM: (self.prefix, self.extension) == ("", "cfg"),
            Family.GRANDSTREAM: (self.prefix, self.extension) == ("cfg", "xml"),
            Family.CISCO: self.extension == "xml" and self.prefix in ("", "spa"),
        }[family]


def parse_file_name(name: str) -> Request | None:
    if name == BOOT_FILE:
        return Request(None, boot=True)
    m = _FILE.match(name)
    if m is None:
        return None
    digits = m.group(2).lower()
    return Request(":".join(digits[i : i + 2] for i in range(0, 12, 2)), False, m.group(1) or "", m.group(3))


def family_of(model: str | None) -> Family | None:
    return MODELS.get((model or "").lower())
