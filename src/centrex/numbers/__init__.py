"""Centrex numbers package (see docs/architecture.md)."""
