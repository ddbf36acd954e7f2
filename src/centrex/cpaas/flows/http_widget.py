"""make-http-request: a request to any REST service (cpaas.txt §2.2.7 "Integration Support ...
any publicly-accessible RESTful web service"), as Studio's widget: method, url, content_type
(form or JSON), parameters (form fields) or body (JSON text), all Liquid templates.

Events: ``success`` for a 2xx answer, ``failed`` otherwise (other status, timeout, refused).
Outputs as Studio's: status_code, content_type, body, and ``parsed`` when the answer is JSON
(``{{widgets.http_1.parsed.name}}``). An answer's body is kept up to 64 KiB.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

import httpx

from centrex.cpaas.flows.widgets import FlowContext, Outcome, register

TIMEOUT_S = 10.0
MAX_BODY = 64 * 1024
METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


async def make_http_request(ctx: FlowContext, props: dict[str, Any]) -> Outcome:
    method = str(props.get("method", "GET")).upper()
    if method not in METHODS:
        raise ValueError(f"make-http-request: method {method!r} is none of {sorted(METHODS)}")
    url = ctx.render(str(props.get("url", ""))).strip()
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"make-http-request: url {url!r} is not http(s)://")
    content_type = str(props.get("content_type", "application/x-www-form-urlencoded;charset=utf-8"))
    kwargs: dict[str, Any] = {}
    if method != "GET":
        if content_type.startswith("application/json"):
            kwargs["content"] = ctx.render(str(props.get("body", ""))).encode()
            kwargs["headers"] = {"content-type": content_type}
        else:
            kwargs["data"] = {
                str(p.get("key")): ctx.render(str(p.get("value", ""))) for p in props.get("parameters") or []
            }
    else:
        params = {
            str(p.get("key")): ctx.render(str(p.get("value", ""))) for p in props.get("parameters") or []
        }
        if params:
            kwargs["params"] = params
    client = ctx.engine.http() if ctx.engine is not None else httpx.AsyncClient()
    try:
        response = await client.request(method, url, timeout=TIMEOUT_S, **kwargs)
    except httpx.HTTPError as exc:
        return Outcome("failed", {"error": f"{type(exc).__name__}: {exc}"[:300], "url": url})
    finally:
        if ctx.engine is None:
            await client.aclose()
    text = response.text[:MAX_BODY]
    outputs: dict[str, Any] = {
        "status_code": response.status_code,
        "content_type": response.headers.get("content-type", ""),
        "body": text,
    }
    if "json" in outputs["content_type"]:
        with contextlib.suppress(ValueError):
            outputs["parsed"] = json.loads(text)
    return Outcome("success" if 200 <= response.status_code < 300 else "failed", outputs)


register("make-http-request", make_http_request)
