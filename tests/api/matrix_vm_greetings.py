"""A user's own voicemail greetings (issue 18 §2): the mailbox's owner, any user role."""

from __future__ import annotations

from tests.api.matrix_roles import USERS, Body

ROUTES: list[tuple[str, str, Body, set[str]]] = [
    ("GET", "/tenants/{t}/me/voicemail/greetings", None, USERS),
]
OPERATOR_ROUTES: list[tuple[str, str, Body]] = []
REFUSED_ROUTES: list[tuple[str, str, Body, set[str], int]] = []
# The owner's answer, others 403, no one 401 (tenant isolation: tests/apps/test_vm_greetings_api.py).
ACCOUNT_ROUTES: list[tuple[str, str, Body, set[str], int]] = [
    ("GET", "/tenants/{t}/me/voicemail/greetings/{kind}", None, USERS, 404),  # none recorded yet
    ("PUT", "/tenants/{t}/me/voicemail/greetings/{kind}", None, USERS, 422),  # an empty body is no WAV
    ("DELETE", "/tenants/{t}/me/voicemail/greetings/{kind}", None, USERS, 204),
]
