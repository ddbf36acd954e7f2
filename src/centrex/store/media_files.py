"""Where recordings and voicemail audio live: keys relative to one media root (issue 19 §5).

A row keeps a key such as ``recordings/<tenant>/2026-12/<call>.wav``, not a node's absolute path,
so every node that mounts the shared media directory (NFS, a cluster filesystem) at its own
``media_dir`` finds the same file, and the directory can move without rewriting rows. Rows written
before this kept absolute paths; those are still read as they are.
"""

from __future__ import annotations

import threading
from pathlib import Path

_lock = threading.Lock()
_root: Path | None = None


def configure(root: Path | str) -> Path:
    """Set the media root of this process (`centrex serve` from settings.media_root; tests)."""
    global _root
    resolved = Path(root).resolve()
    with _lock:
        _root = resolved
    return resolved


def root() -> Path:
    if _root is None:
        raise RuntimeError("the media directory is not configured (store/media_files.configure)")
    return _root


def key_of(path: Path | str) -> str:
    """The key to store for a file written under the root; a file elsewhere keeps its absolute path."""
    absolute = Path(path).resolve()
    base = _root
    if base is not None and absolute.is_relative_to(base):
        return absolute.relative_to(base).as_posix()
    return str(absolute)


def path_of(key: str) -> Path:
    """The file a stored key names on this node."""
    stored = Path(key)
    if stored.is_absolute():
        return stored  # written before keys, or outside the root
    if ".." in stored.parts:
        raise ValueError(f"a media key may not leave the media directory: {key!r}")
    return root() / stored


def root_or_settings() -> Path:
    """The media root, or — in a process that never configured one (an API app made by a tool or
    a test) — the settings' media directory, so readers of stored keys find the same files."""
    try:
        return root()
    except RuntimeError:
        from centrex.config import Settings  # here: the store does not need the settings otherwise

        return Settings().media_root
