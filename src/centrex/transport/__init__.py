"""Centrex transport package (see docs/architecture.md)."""
