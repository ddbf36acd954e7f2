"""Voicemail messages through the API: the owner lists, downloads, marks and deletes their own
messages under /me; an administrator sees a user's message list without caller names or audio."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from centrex.apps.vm_store import VoicemailStore
from centrex.media.tones import sine
from tests.api.conftest import Api
from tests.api.conftest import api as api


def seed(api: Api, data_dir: Path) -> tuple[uuid.UUID, list[Any]]:
    store = VoicemailStore(api.app.state.sessionmaker, data_dir)
    tw = api.world.a
    box = store.mailbox(tw.id, tw.ids["end_user"])
    assert box is not None
    t0 = datetime(2026, 2, 3, 9, 0, tzinfo=UTC)
    made = [
        store.add_message(
            box,
            sine(440.0, 1000 * (i + 1)),
            caller=f"+1217555010{i}",
            caller_name=f"Caller {i}",
            call_id=None,
            reason="busy",
            received_at=t0 + timedelta(hours=i),
        )
        for i in range(2)
    ]
    return tw.ids["end_user"], made


def test_the_owner_lists_downloads_marks_and_deletes(api: Api, tmp_path: Path) -> None:
    user_id, (older, newer) = seed(api, tmp_path)
    changed: list[tuple[uuid.UUID, uuid.UUID]] = []
    api.app.state.voicemail_counts_changed = lambda t, u: changed.append((t, u))
    tw = api.world.a
    token = tw.tokens["end_user"]
    base = f"/api/v1/tenants/{tw.id}/me/voicemail/messages"

    r = api.call("GET", base, token)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == 2 and [m["id"] for m in body["items"]] == [str(newer.id), str(older.id)]
    assert body["items"][0] | {"id": "x", "received_at": "x"} == {
        "id": "x",
        "caller": "+12175550101",
        "caller_name": "Caller 1",
        "received_at": "x",
        "duration_ms": 2000,
        "folder": "new",
        "reason": "busy",
        "size_bytes": 44 + 2 * 16000,
    }

    audio = api.call("GET", f"{base}/{older.id}/audio", token)
    assert audio.status_code == 200 and audio.headers["content-type"] == "audio/wav"
    assert audio.content == Path(older.file_path).read_bytes()

    r = api.call("PATCH", f"{base}/{older.id}", token, json={"folder": "saved"})
    assert r.status_code == 200 and r.json()["folder"] == "saved"
    assert [m["id"] for m in api.call("GET", base, token, params={"folder": "saved"}).json()["items"]] == [
        str(older.id)
    ]
    bad = api.call("PATCH", f"{base}/{older.id}", token, json={"folder": "trash"})
    assert bad.status_code == 422 and "folder" in bad.text

    r = api.call("DELETE", f"{base}/{newer.id}", token)
    assert r.status_code == 204
    assert not Path(newer.file_path).exists()
    assert api.call("GET", f"{base}/{newer.id}", token).status_code == 404
    assert api.call("GET", base, token).json()["total"] == 1
    assert changed == [(tw.id, user_id), (tw.id, user_id)]
    actions = {e["action"] for e in api.audit()}
    assert {"self.voicemail_message", "self.voicemail_message.delete"} <= actions


def test_administrators_see_the_list_but_not_the_audio(api: Api, tmp_path: Path) -> None:
    user_id, (older, _) = seed(api, tmp_path)
    tw = api.world.a
    r = api.call(
        "GET", f"/api/v1/tenants/{tw.id}/users/{user_id}/voicemail/messages", tw.tokens["office_admin"]
    )
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert len(items) == 2 and all(
        set(m) == {"id", "caller", "received_at", "duration_ms", "folder"} for m in items
    )
    own = f"/api/v1/tenants/{tw.id}/me/voicemail/messages/{older.id}/audio"
    assert api.call("GET", own, tw.tokens["office_admin"]).status_code == 404  # not the admin's message
    assert api.call("GET", own, api.world.operator_token).status_code == 404
    # Another tenant's administrator does not find the user at all.
    other = api.call(
        "GET",
        f"/api/v1/tenants/{tw.id}/users/{user_id}/voicemail/messages",
        api.world.b.tokens["office_admin"],
    )
    assert other.status_code == 404


def test_a_missing_audio_file_is_404_naming_it(api: Api, tmp_path: Path) -> None:
    _, (older, _) = seed(api, tmp_path)
    Path(older.file_path).unlink()
    tw = api.world.a
    r = api.call(
        "GET", f"/api/v1/tenants/{tw.id}/me/voicemail/messages/{older.id}/audio", tw.tokens["end_user"]
    )
    assert r.status_code == 404 and r.json()["rule"] == "voicemail.audio"
