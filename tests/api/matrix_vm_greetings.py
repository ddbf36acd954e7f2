"""A user's own voicemail greetings (issue 18 §2): the mailbox's owner, any user role."""

from __future__ import annotations

from tests.api.matrix_roles import USERS, Body

ROUTES: list[tuple[str, str, Body, set[str]]] = [
    ("GET", "/tenants/{t}/me/voicemail/greetings", None, USERS),
    ("DELETE", "/tenants/{t}/me/voicemail/greetings/unavailable", None, USERS),
]
OPERATOR_ROUTES: list[tuple[str, str, Body]] = []
REFUSED_ROUTES: list[tuple[str, str, Body, set[str], int]] = []
