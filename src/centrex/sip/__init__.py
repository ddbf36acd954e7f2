"""Centrex sip package (see docs/architecture.md)."""
