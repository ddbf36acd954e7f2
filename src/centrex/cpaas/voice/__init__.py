"""Programmable voice (issue 16 §1): applications' documents (TwiML or native JSON verbs) run on a
call of the app server (apps/server.py). ``control`` is the interface to the call; ``verbs`` the one
verb model both dialects parse into; ``runner`` the interpreter."""
