"""cpaas-recording-retention: the content of voice apps' recordings is kept thirty days.

cpaas.txt §2.4.2 (i): "For content transmitted via Atmosphere® CPaaS, IntelePeer will retain: (i) any
content of the communications in their entirety, along with any transcription materials, for thirty
(30) days from successful processing". A cpaas_recordings row whose recording started more than 30
days before the run loses its WAV file (``path`` emptied, ``content_deleted_at`` stamped); the row —
a detail record of §2.4.2 (iv), kept up to three years — stays, so the Recordings API still lists it
(with no media). Batches of BATCH rows are one transaction each; a second run finds nothing more.
"""

from __future__ import annotations

import contextlib
import os
from datetime import timedelta

from sqlalchemy import select

from centrex.ops.scheduler import JobContext, JobReport
from centrex.store import media_files
from centrex.store.db import transaction
from centrex.store.models.cpaas_voice import CpaasRecording

CONTENT_RETENTION = timedelta(days=30)  # cpaas.txt §2.4.2 (i)
BATCH = 500


def cpaas_recording_retention(ctx: JobContext) -> JobReport:
    cutoff = ctx.now - CONTENT_RETENTION
    expired = (CpaasRecording.content_deleted_at.is_(None), CpaasRecording.start_time < cutoff)
    if ctx.dry_run:
        with ctx.sessions() as s:
            count = len(s.scalars(select(CpaasRecording.id).where(*expired)).all())
        return JobReport(f"{count} recordings' content would be deleted", {"recordings": count})
    done = missing = freed = 0
    while True:
        with transaction(ctx.sessions) as s:
            rows = s.scalars(select(CpaasRecording).where(*expired).limit(BATCH)).all()
            for row in rows:
                if row.path:
                    path = media_files.path_of(row.path)  # a key under the media directory
                    try:
                        freed += os.path.getsize(path)
                        os.remove(path)
                    except FileNotFoundError:
                        missing += 1
                    except OSError:
                        with contextlib.suppress(OSError):
                            os.remove(path)
                row.path = None
                row.size_bytes = 0
                row.content_deleted_at = ctx.now
        if not rows:
            break
        done += len(rows)
        ctx.progress(done, None)
        ctx.check_stop()
    return JobReport(
        f"{done} recordings' content deleted (started before {cutoff:%Y-%m-%d})",
        {"recordings": done, "files_missing": missing, "bytes": freed},
    )
