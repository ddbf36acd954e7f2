"""Centrex e911 package (see docs/architecture.md)."""
