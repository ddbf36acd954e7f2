"""The CDR event of a finished call: who called whom, how it ended, for how long (the call's
answer to the end, measured on the switch's monotonic clock)."""

from __future__ import annotations

from datetime import datetime

from centrex.calls.events import CallEnded
from centrex.calls.model import Call


def call_ended(call: Call, ended: datetime, now: float, disposition: str, cause: str, code: int) -> CallEnded:
    duration_ms = round((now - call.answered_mono) * 1000) if call.answered_mono is not None else 0
    caller = call.caller
    if caller is not None:
        from_ = caller.extension
    elif call.device is not None:
        from_ = call.device.username
    else:
        from_ = call.remote_number or ""
    if call.target is not None:
        to = call.target.extension
    elif call.group is not None:
        to = call.group.extension
    else:
        to = call.out_number or call.classification.destination or call.dialled
    trunk = call.out_trunk or call.trunk
    return CallEnded(
        call.id,
        call.tenant.id,
        call.site_id,
        caller.id if caller else None,
        call.device.id if call.device else None,
        from_,
        to,
        call.dialled,
        call.classification.call_class.value,
        call.started_at,
        call.answered_at,
        ended,
        max(0, duration_ms),
        disposition,
        cause,
        code,
        tuple(leg.record() for leg in call.all_legs),
        call.direction,
        trunk.name if trunk else None,
    )
