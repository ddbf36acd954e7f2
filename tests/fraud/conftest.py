"""The interop Server fixture (tests/interop/conftest.py): a real Centrex SIP service and SIPp."""

from tests.interop.conftest import server

__all__ = ["server"]
