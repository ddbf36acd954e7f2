"""Centrex billing: pure functions and frozen dataclasses over data (no database, no HTTP — except
`service`).

deck (rate decks, LPM) · rating (CDR -> Charge, a month -> RatedPeriod) · batch (numpy rating) ·
plans / subscriptions (seats, features, bundles, terms, CPaaS platform fee) · taxes · invoice (+ pdf) ·
collections (late charges, disputes, credit, suspension) · credits (outage credits, liability caps).
service: the one module that touches storage — applies the rules above to stored decks, plans, CDRs
and invoices for the API and the CLI.
"""
