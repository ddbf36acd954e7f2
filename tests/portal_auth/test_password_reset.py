"""Password reset by e-mail, received by a real SMTP server (aiosmtpd on 127.0.0.1): always 202,
the link's token sets the password once, ends the account's sessions, and is audited."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator
from dataclasses import replace
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from aiosmtpd.controller import Controller

from centrex.ops.mailer import Mailer, SmtpConfig
from tests.portal_auth.conftest import PASSWORD, Portal, email_of

BASE_URL = "https://portal.provider.example"
NEW_PASSWORD = "a long new passphrase 42"


class Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        self.messages.append(msg)
        return "250 accepted"

    def wait(self, count: int, timeout_s: float = 30.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout_s
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.messages


@pytest.fixture
def inbox(portal: Portal) -> Iterator[Inbox]:
    box = Inbox()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    mailer = Mailer(SmtpConfig("127.0.0.1", port, "portal@provider.example"), timeout_s=10)
    portal.app.state.portal = replace(portal.app.state.portal, base_url=BASE_URL, mailer=mailer)
    try:
        yield box
    finally:
        controller.stop()


def link_token(message: EmailMessage) -> str:
    body = message.get_content()
    link = re.search(r"https://\S+", body)
    assert link, body
    url = urlparse(link.group(0))
    assert f"{url.scheme}://{url.netloc}" == BASE_URL and url.path == "/reset"
    return parse_qs(url.query)["token"][0]


def test_reset_mail_link_sets_the_password_once(portal: Portal, inbox: Inbox) -> None:
    email = email_of("a", "end_user")
    browser = portal.client(tls=True)  # the portal is served over TLS (its base URL is https)
    login = portal.login(browser, email)
    assert login.status_code == 200 and "Secure" in login.headers["set-cookie"]
    assert browser.get(portal.tenant_path() + "/me").status_code == 200

    anyone = portal.client()
    r = anyone.post("/api/v1/auth/password-reset", json={"email": email})
    assert r.status_code == 202
    nobody = anyone.post("/api/v1/auth/password-reset", json={"email": "nobody@alpha.example.com"})
    assert nobody.status_code == 202 and nobody.json() == r.json()
    [mail] = inbox.wait(1)
    time.sleep(0.5)
    assert len(inbox.messages) == 1  # nothing was sent for the unknown address
    assert mail["To"] == email and "reset" in mail["Subject"].lower()
    token = link_token(mail)

    weak = anyone.post("/api/v1/auth/password-reset/confirm", json={"token": token, "password": "short"})
    assert (
        weak.status_code == 422 and weak.json()["field"] == "password" and weak.json()["rule"] == "min_length"
    )
    common = anyone.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "password": "password123"}
    )
    assert common.status_code == 422 and common.json()["rule"] == "common_password"

    done = anyone.post("/api/v1/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD})
    assert done.status_code == 204, done.text
    again = anyone.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD}
    )
    assert again.status_code == 422 and again.json()["field"] == "token"

    # The session made with the old password is over; the old password opens nothing, the new does.
    assert browser.get(portal.tenant_path() + "/me").status_code == 401
    assert portal.login(portal.client(), email, PASSWORD).status_code == 401
    assert portal.login(portal.client(), email, NEW_PASSWORD).status_code == 200

    audit = portal.client().get(
        portal.tenant_path() + "/audit",
        headers={"Authorization": f"Bearer {portal.world.a.tokens['office_admin']}"},
    )
    actions = [e["action"] for e in audit.json()["items"]]
    assert "auth.password_reset_requested" in actions and "auth.password_reset" in actions
    assert token not in audit.text and NEW_PASSWORD not in audit.text


def test_a_made_up_token_is_refused(portal: Portal) -> None:
    r = portal.client().post(
        "/api/v1/auth/password-reset/confirm", json={"token": "made-up", "password": NEW_PASSWORD}
    )
    assert r.status_code == 422 and r.json()["rule"] == "reset_token"
