"""Centrex cpaas package (see docs/architecture.md)."""
