"""Centrex media package (see docs/architecture.md)."""
