from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from centrex.store import secretbox


@pytest.fixture(autouse=True)
def secret_key(tmp_path: Path) -> Iterator[Path]:
    """Each test's webhook-secret key in its own directory (store/secretbox.py)."""
    before = secretbox.key_path()
    path = tmp_path / "keys" / "secret.key"
    secretbox.configure(path)
    yield path
    secretbox.configure(before)
