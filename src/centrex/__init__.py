"""Centrex: an open hosted business phone service."""

__version__ = "0.1.0"
