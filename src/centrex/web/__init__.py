"""Centrex web package (see docs/architecture.md)."""
