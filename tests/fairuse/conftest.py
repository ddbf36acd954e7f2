"""The SIP service fixtures of tests/fairuse/switch.py (tests/transport uses them too)."""

from tests.fairuse.switch import seeded, short_idle_switch, switch

__all__ = ["seeded", "short_idle_switch", "switch"]
