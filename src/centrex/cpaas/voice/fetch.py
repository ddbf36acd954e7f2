"""Requests to a customer's voice app: its documents, its action URLs, its status callbacks.

Twilio's request parameters (CallSid, AccountSid, From, To, CallStatus, Direction, ApiVersion, and
per verb Digits, RecordingUrl, DialCallStatus …) go as a form body for POST or in the query string for
GET, every request signed with X-Twilio-Signature keyed by the account's auth token (cpaas/signing.py;
for GET only the URL, which already holds the parameters, is signed — as Twilio does, and as the
`twilio` package's RequestValidator checks). httpx is the client (already a dependency: 911 webhooks).

Errors carry Twilio's codes: 11200 HTTP retrieval failure (a status other than 2xx), 11205 HTTP
connection failure, 11210 HTTP bad host name, 12300 invalid Content-Type, and the parse codes of
verbs.py.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode, urljoin, urlsplit, urlunsplit

import httpx

from centrex.cpaas.signing import HEADER, twilio_signature
from centrex.cpaas.voice.jsonverbs import parse_document
from centrex.cpaas.voice.verbs import Document, VerbError

log = logging.getLogger(__name__)

API_VERSION = "2010-04-01"
USER_AGENT = "Centrex-Voice/1.0 (TwilioProxy-compatible)"
FETCH_TIMEOUT_S = 15.0  # Twilio waits 15 s for a document
DOCUMENT_TYPES = ("text/xml", "application/xml", "text/html", "text/plain", "application/json")


class FetchError(Exception):
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def absolute(base: str | None, url: str) -> str:
    """An action URL relative to the current document's URL (Twilio resolves them so)."""
    return urljoin(base, url) if base else url


def with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    extra = urlencode(params)
    query = f"{parts.query}&{extra}" if parts.query and extra else (parts.query or extra)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


class AppClient:
    """One shared httpx.AsyncClient for every call of the app server."""

    def __init__(self, client: httpx.AsyncClient | None = None, timeout_s: float = FETCH_TIMEOUT_S) -> None:
        self.client = client or httpx.AsyncClient(timeout=timeout_s, headers={"User-Agent": USER_AGENT})

    async def close(self) -> None:
        await self.client.aclose()

    async def send(self, url: str, method: str, params: dict[str, str], auth_token: str) -> httpx.Response:
        """One signed request. Raises FetchError for a connection failure or a non-2xx answer."""
        if urlsplit(url).scheme not in ("http", "https"):
            raise FetchError(f"{url!r} is not an http(s) URL", 11210)
        try:
            if method.upper() == "GET":
                full = with_query(url, params)
                headers = {HEADER: twilio_signature(auth_token, full)}
                response = await self.client.get(full, headers=headers)
            else:
                headers = {HEADER: twilio_signature(auth_token, url, params)}
                response = await self.client.post(url, data=params, headers=headers)
        except httpx.InvalidURL as exc:
            raise FetchError(f"{url}: {exc}", 11210) from None
        except httpx.HTTPError as exc:
            raise FetchError(f"{method} {url}: {type(exc).__name__} {exc}".strip(), 11205) from None
        if not 200 <= response.status_code < 300:
            raise FetchError(f"{method} {url} answered {response.status_code}", 11200)
        return response

    async def document(self, url: str, method: str, params: dict[str, str], auth_token: str) -> Document:
        response = await self.send(url, method, params, auth_token)
        ctype = response.headers.get("content-type", "")
        main = ctype.split(";")[0].strip().lower()
        if main and main not in DOCUMENT_TYPES and not main.endswith(("+xml", "+json")):
            raise FetchError(f"{url} answered Content-Type {main!r}, not TwiML or JSON", 12300)
        try:
            return parse_document(response.content, ctype)
        except VerbError as exc:
            raise FetchError(f"{url}: {exc}", exc.code) from None

    async def notify(self, url: str, method: str, params: dict[str, str], auth_token: str) -> bool:
        """A status callback, best effort: False (and a log line) when it fails."""
        try:
            await self.send(url, method, params, auth_token)
            return True
        except FetchError as exc:
            log.info("cpaas.voice.callback_failed url=%s code=%d %s", url, exc.code, exc)
            return False
