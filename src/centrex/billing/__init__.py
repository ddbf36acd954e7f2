"""Centrex billing: pure functions and frozen dataclasses over data (no database, no HTTP — except
the `*_service` modules, and `account_state` and `messages`, which read the store).

deck (rate decks, LPM) · rating (CDR -> Charge, a month -> RatedPeriod) · batch (numpy rating) ·
plans / subscriptions (seats, features, bundles, terms, CPaaS platform fee) · taxes · invoice (+ pdf) ·
collections (late charges, disputes, credit, suspension) · credits (outage credits, liability caps).
*_service (deck, plan, subscription, cdr, rating, invoice, outage, payment, collections, tax): the
modules that write storage — they apply the rules above to stored decks, plans, CDRs and invoices
for the API and the CLI (days: today and a billing month as typed).
"""
