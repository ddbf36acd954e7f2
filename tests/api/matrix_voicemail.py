"""Route matrix rows of voicemail messages (issue 4 point 2). A user's messages are theirs, through
/me; the office administrator, back-up and operator list a user's mailbox (MAC 8) but get no audio.
The world's message belongs to a user with no token: every role's /me item routes answer 404
(not theirs; a token without a user has no messages), tenant B's people 404 as everywhere."""

from __future__ import annotations

from tests.api.matrix_roles import EVERY, STAFF, USERS, Body

ME = "/tenants/{t}/me/voicemail/messages"

ROUTES: list[tuple[str, str, Body, set[str]]] = [
    ("GET", ME, None, USERS),
    ("GET", "/tenants/{t}/users/{user}/voicemail/messages", None, STAFF),
]

REFUSED_ROUTES: list[tuple[str, str, Body, set[str], int]] = [
    ("GET", ME + "/{vm_message}", None, set(EVERY), 404),
    ("GET", ME + "/{vm_message}/audio", None, set(EVERY), 404),
    ("PATCH", ME + "/{vm_message}", lambda w: {"folder": "saved"}, set(EVERY), 404),
    ("DELETE", ME + "/{vm_message}", None, set(EVERY), 404),
]
