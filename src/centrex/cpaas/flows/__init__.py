"""Flows (issue 20 §1)."""
