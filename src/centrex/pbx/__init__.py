"""Centrex pbx package (see docs/architecture.md)."""
