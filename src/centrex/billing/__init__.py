"""Centrex billing: pure functions and frozen dataclasses over data (no database, no HTTP).

deck (rate decks, LPM) · rating (CDR -> Charge, a month -> RatedPeriod) · batch (numpy rating) ·
plans / subscriptions (seats, features, bundles, terms, CPaaS platform fee) · taxes · invoice (+ pdf) ·
collections (late charges, disputes, credit, suspension) · credits (outage credits, liability caps).
"""
