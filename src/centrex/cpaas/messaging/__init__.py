"""Messaging (issue 16 §4): SMS on long codes and toll-free numbers through a carrier connector.

- segments.py: GSM-7/UCS-2 encoding and 160/153, 70/67 segmenting with concatenation UDH (smpplib.gsm)
- keywords.py: CTIA STOP/START/HELP keywords and their standard replies
- checks.py: what refuses a send (A2P registration, consent, prohibited use) with Twilio's codes
- records.py: the rows (messages, consent, registrations) read and written
- dlr.py: SMPP delivery receipts → Twilio statuses
- smpp_connector.py / http_connector.py: the carrier connectors; simulator.py: an SMSC for demo/tests
- service.py: the Messenger — send, receipts, incoming SMS to the number's SMS URL, status callbacks
- callbacks.py: signed POSTs to the tenant's URLs (X-Twilio-Signature) and TwiML <Message> replies
"""

from __future__ import annotations
