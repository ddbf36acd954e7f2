"""Centrex billing package (see docs/architecture.md)."""
