"""The Twilio-compatible API (issue 16 §2), under /2010-04-01/Accounts/{AccountSid}/.

Each module here that defines ``router`` is included by api/app.py (``twilio_routers``), so a new
resource (Calls, Messages, Recordings, IncomingPhoneNumbers) is a new module and no shared edit.
Bodies are form-encoded as Twilio's; answers are Twilio's JSON shapes (twilio-oai), errors
api/twilio_auth.py's TwilioError.
"""

from __future__ import annotations

import importlib
import pkgutil

from fastapi import APIRouter
from fastapi.routing import APIRoute


def twilio_routers() -> list[APIRouter]:
    routers = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        router = getattr(module, "router", None)
        if isinstance(router, APIRouter):
            for route in router.routes:
                if isinstance(route, APIRoute):
                    for status, text in TWILIO_ERRORS.items():
                        route.responses.setdefault(status, {"description": text})
            routers.append(router)
    return routers


# Every route of the compatible API may answer these, in Twilio's error shape (api/twilio_auth.py).
TWILIO_ERRORS = {
    400: "Twilio error: a parameter is wrong (code and message say which)",
    401: "Twilio error 20003: HTTP Basic with the account SID and auth token is required",
    404: "Twilio error 20404: no such resource in this account",
    # Declared here so FastAPI adds no HTTPValidationError reference (api/openapi.py drops that schema).
    422: "a parameter fails validation",
}
