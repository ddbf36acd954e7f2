"""X-Twilio-Signature: how a Twilio-compatible app knows a request came from us (issue 16 §3).

The signature is base64(HMAC-SHA1(auth token, URL + each POST parameter's name and value, sorted by
name)). For a GET the parameters are in the URL already, so only the URL is signed. The `twilio`
package's RequestValidator checks exactly this; the published vector is in the tests.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping

HEADER = "X-Twilio-Signature"


def _pairs(params: Mapping[str, str] | Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    items = params.items() if isinstance(params, Mapping) else params
    return [(str(k), str(v)) for k, v in items]


def twilio_signature(
    auth_token: str, url: str, params: Mapping[str, str] | Iterable[tuple[str, str]] = ()
) -> str:
    payload = url + "".join(k + v for k, v in sorted(_pairs(params)))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def valid_twilio_signature(
    auth_token: str, url: str, params: Mapping[str, str] | Iterable[tuple[str, str]], signature: str
) -> bool:
    return hmac.compare_digest(twilio_signature(auth_token, url, params), signature or "")
