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


def twilio_routers() -> list[APIRouter]:
    routers = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        router = getattr(module, "router", None)
        if isinstance(router, APIRouter):
            routers.append(router)
    return routers
