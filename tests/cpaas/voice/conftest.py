"""The switch fixture of tests/interop (a SIP service with the demo tenant and SIPp) re-exported for
the voice-app tests that call through the whole switch."""

from tests.interop.conftest import server  # noqa: F401 - the switch fixture, re-exported
