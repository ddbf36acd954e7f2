"""Centrex calls package (see docs/architecture.md)."""
