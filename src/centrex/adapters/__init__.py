"""Store-backed implementations of the call core's ports (DESIGN.md: the core reads the store only
through ports): the directory of tenants, devices and users; the call journal, CDRs and persisted
registrations; call recording by the tenants' policies. calls/ imports none of these; the
assembly (server.py) hands them to the switch."""
