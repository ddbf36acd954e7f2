"""Centrex calls: the registrar and the B2BUA, between the SIP stack and the service packages.

Pure decision logic (no sockets, time as a parameter), tested without I/O:
- ``guard``: who may talk at all: fail2ban-style bans (fairuse/ban_service.py) after failures that
  prove guessing (5 in 10 minutes, banned 10 minutes) and a per-source token bucket; asked before
  a datagram is parsed, and before a TCP/TLS connection is accepted.
- ``auth``: digest authentication of phones; the realm is the tenant's SIP domain; unknown
  domains and users are challenged and refused exactly like known ones (no enumeration).
- ``registrar`` + ``location``: REGISTER (expiry bounds, several contacts, ``*``), the bindings.
- ``engine``: the CallEngine, a B2BUA driven by SIP events that sends through a ``Network`` port:
  parallel forking, caller ID from the user record, forwarding, DND, restriction classes.

Around them:
- ``directory``: what is read from the store (tenants, devices, users, restriction classes).
- ``records``: durable CDRs, the journal of calls in progress, persisted registrations.
- ``service``: the asyncio shell: UDP and TCP transports, the guard in front, one engine timer.
"""
