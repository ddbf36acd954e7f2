"""Programmable voice (issue 16 §1): applications' documents (TwiML or native JSON verbs) run on a
call of the app server (apps/server.py). ``control`` is the interface to the call; ``verbs`` the one
verb model both dialects parse into; ``runner`` the interpreter's run loop, with its verbs in
``media_verbs``, ``dial_verbs``, ``queue_verbs`` and ``message_verb`` and its requests and status
callbacks in ``app_session``."""
