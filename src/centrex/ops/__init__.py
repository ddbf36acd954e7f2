"""Centrex ops package (see docs/architecture.md)."""
