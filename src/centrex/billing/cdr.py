"""The call detail record as billing sees it: the input of rating."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from centrex.numbers.classes import CallClass, Direction


class Disposition(StrEnum):
    ANSWERED = "answered"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One finished call. Numbers are E.164 ("+14155550100"); times are timezone-aware UTC.

    `duration_ms` is the answered (billable) duration, from answer to hang-up; 0 if not answered.
    """

    id: str
    tenant_id: str
    caller: str
    callee: str
    call_class: CallClass
    direction: Direction
    start: datetime
    duration_ms: int
    disposition: Disposition = Disposition.ANSWERED
    answer: datetime | None = None
    site_id: str | None = None
    user_id: str | None = None
    dialled: str = ""
    is_intra_enterprise: bool = False

    def __post_init__(self) -> None:
        if self.start.tzinfo is None:
            raise ValueError(f"CDR {self.id}: start must be timezone-aware UTC")
        if self.duration_ms < 0:
            raise ValueError(f"CDR {self.id}: duration_ms must be >= 0, got {self.duration_ms}")

    @property
    def answered(self) -> bool:
        return self.disposition is Disposition.ANSWERED and self.duration_ms > 0
