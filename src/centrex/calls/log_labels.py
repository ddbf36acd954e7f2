"""Log labels where no SIP message of the call is being handled (ops/logs.py).

Lines logged while the switch handles a message carry that message's call (``sip_logged``); a call
can also end on a timer (no answer, session timer, media timeout) or after its B-leg was forgotten
(the callee's BYE). This service names the call as it ends, so the ``sip.call.end`` line and every
line its end causes carry the caller's Call-ID and the tenant. It costs one context variable set
per call.
"""

from __future__ import annotations

from centrex.calls.model import Call
from centrex.calls.services import CallService
from centrex.ops.logs import call_var


class CallLabels(CallService):
    name = "log-labels"

    def ended(self, call: Call, now: float) -> None:
        call_var.set(call)  # reset when the message or timer being handled is done (ops/logs.py)
