"""Centrex fairuse package (see docs/architecture.md)."""
