"""Centrex capacity package (see docs/architecture.md)."""
