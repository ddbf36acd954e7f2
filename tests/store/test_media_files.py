"""Recordings and voicemail are kept under one media directory by key (issue 19 §5), so a second
node that mounts the same shared directory at another path serves the same audio."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from centrex.apps.vm_store import VoicemailStore
from centrex.store import media_files
from tests.api.conftest import Api
from tests.api.conftest import api as api
from tests.apps.test_vm_api import seed


@pytest.fixture
def media_root() -> Iterator[None]:
    before = media_files._root  # the process-wide setting, restored for the tests after this one
    yield
    media_files._root = before


def test_keys_are_relative_under_the_root_and_never_leave_it(tmp_path: Path, media_root: None) -> None:
    root = media_files.configure(tmp_path / "media")
    assert media_files.key_of(root / "voicemail" / "t" / "m.wav") == "voicemail/t/m.wav"
    assert media_files.path_of("voicemail/t/m.wav") == root / "voicemail" / "t" / "m.wav"
    elsewhere = tmp_path / "other" / "x.wav"
    assert media_files.key_of(elsewhere) == str(elsewhere.resolve())  # outside: kept absolute
    assert media_files.path_of(str(elsewhere)) == elsewhere  # rows from before keys read as they are
    with pytest.raises(ValueError, match="may not leave the media directory"):
        media_files.path_of("../../etc/passwd")


def test_a_second_node_on_the_shared_directory_serves_the_same_message(
    api: Api, tmp_path: Path, media_root: None
) -> None:
    node_a = media_files.configure(tmp_path / "node-a" / "media")
    _, (older, newer) = seed(api, node_a)
    assert older.file_path.startswith("voicemail/"), older.file_path  # a key, not node A's path
    written = (node_a / older.file_path).read_bytes()
    # Node B mounts the same directory elsewhere.
    node_b = tmp_path / "node-b" / "mnt" / "media"
    shutil.copytree(node_a, node_b)
    shutil.rmtree(node_a)
    media_files.configure(node_b)
    tw = api.world.a
    base = f"/api/v1/tenants/{tw.id}/me/voicemail/messages"
    audio = api.call("GET", f"{base}/{older.id}/audio", tw.tokens["end_user"])
    assert audio.status_code == 200 and audio.content == written
    box = VoicemailStore(api.app.state.sessionmaker, node_b).mailbox(tw.id, tw.ids["end_user"])
    assert box is not None
    assert api.call("DELETE", f"{base}/{newer.id}", tw.tokens["end_user"]).status_code == 204
    assert not (node_b / newer.file_path).exists()  # deleted on the shared directory, not a stale path
