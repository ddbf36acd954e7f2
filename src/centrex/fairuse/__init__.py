"""Centrex fairuse package (see docs/architecture.md).

Brute-force bans (issue 13 point 4, docs/switch.md "Bans"):
- ``bans``: the decision, pure: failures that prove guessing per realm and source within a window
  ban for a time; an allowlist (trunks, the operator's networks) is never banned.
- ``ban_store``: the ``bans`` rows, the allowlist read from trunks and operator rows, the service
  keys (the SIP nonce key), and a writer thread so the SIP loop never waits on the store.
- ``ban_service``: the two together for a running node: loaded at start, synced every few seconds.
"""
