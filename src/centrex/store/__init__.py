"""Centrex store package (see docs/architecture.md)."""
