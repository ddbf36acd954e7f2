"""Native JSON verbs (jambonz-style: a list of ``{"verb": "say", …}``) → the verb model (verbs.py).

The same verbs as TwiML under their jambonz names and fields: ``say`` (text, loop), ``play`` (url,
loop), ``pause`` (length), ``gather`` (input ["digits"], numDigits, timeout, finishOnKey,
actionHook, say/play nested), ``record`` (maxLength, timeout, finishOnKey, playBeep, actionHook),
``dial`` (target: [{type: phone|sip|user|conference|queue, number|sipUri|name}], actionHook,
callerId, timeout, timeLimit, answerOnBridge), ``hangup``, ``sip:decline`` (status 486 or 603),
``redirect`` (actionHook), ``enqueue`` (name, actionHook), ``leave``, ``conference`` (name),
``message`` (to, from, text). A hook is a URL string or ``{"url": …, "method": …}``. Unknown verbs
and fields of the wrong type are refused with the verb's index and the field, never skipped.
"""

from __future__ import annotations

import json
from typing import Any

from centrex.cpaas.voice.control import DialTarget
from centrex.cpaas.voice.verbs import (
    MAX_LOOP,
    Dial,
    Document,
    Enqueue,
    Gather,
    Hangup,
    Leave,
    Message,
    Pause,
    Play,
    Prompt,
    Record,
    Redirect,
    Reject,
    Say,
    Verb,
    VerbError,
    finish_keys,
    method_of,
)

MAX_DOCUMENT = 64 * 1024
TARGET_KINDS = {"phone": "number", "sip": "sip", "user": "extension", "conference": "conference"}
TARGET_KINDS |= {"queue": "queue", "client": "client"}


def parse_json_verbs(text: str | bytes | list[Any]) -> Document:
    if isinstance(text, (str, bytes)):
        if len(text) > MAX_DOCUMENT:
            raise VerbError(f"the document is larger than {MAX_DOCUMENT} bytes", 12100)
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise VerbError(f"document parse failure: {exc}", 12100) from None
    else:
        data = text
    if isinstance(data, dict) and "verbs" in data:
        data = data["verbs"]
    if not isinstance(data, list):
        raise VerbError("a JSON application is a list of verbs", 12100)
    return Document(tuple(_verb(i, v) for i, v in enumerate(data)), "json")


class _Fields:
    def __init__(self, index: int, data: Any) -> None:
        if not isinstance(data, dict) or not isinstance(data.get("verb"), str):
            raise VerbError(f"verbs[{index}]: each verb is an object with a 'verb' name", 12100)
        self.data = data
        self.name = data["verb"]
        self.where = f"verbs[{index}] ({self.name})"

    def text(self, key: str, default: str | None = None, required: bool = False) -> str | None:
        value = self.data.get(key, default)
        if value is None and required:
            raise VerbError(f"{self.where}: '{key}' is required")
        if value is not None and not isinstance(value, str):
            raise VerbError(f"{self.where}: '{key}' must be a string")
        return value

    def integer(self, key: str, default: int | None, lo: int = 0, hi: int | None = None) -> int | None:
        value = self.data.get(key, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise VerbError(f"{self.where}: '{key}' must be a whole number")
        if value < lo or (hi is not None and value > hi):
            raise VerbError(
                f"{self.where}: '{key}' must be at least {lo}" + (f" and at most {hi}" if hi else "")
            )
        return value

    def flag(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise VerbError(f"{self.where}: '{key}' must be true or false")
        return value

    def hook(self, key: str = "actionHook") -> tuple[str | None, str]:
        value = self.data.get(key)
        if value is None:
            return None, "POST"
        if isinstance(value, str):
            return value, "POST"
        if isinstance(value, dict) and isinstance(value.get("url"), str):
            return value["url"], method_of(value.get("method"), self.where)
        raise VerbError(f'{self.where}: \'{key}\' must be a URL or {{"url", "method"}}')


def _loop(f: _Fields) -> int:
    value = f.data.get("loop", 1)
    if value == "forever":
        return MAX_LOOP
    n = f.integer("loop", 1)
    return MAX_LOOP if n == 0 else min(n or 1, MAX_LOOP)


def _prompt(index: int, data: Any) -> Prompt:
    f = _Fields(index, data)
    if f.name == "say":
        return Say(
            f.text("text", required=True) or "",
            language=f.text("language", "en-US") or "en-US",
            loop=_loop(f),
        )
    if f.name == "play":
        return Play(f.text("url", required=True) or "", loop=_loop(f))
    if f.name == "pause":
        return Pause(f.integer("length", 1) or 0)
    raise VerbError(f"{f.where}: not a prompt (say, play or pause)")


def _verb(index: int, data: Any) -> Verb:
    f = _Fields(index, data)
    name = f.name
    if name in ("say", "play", "pause"):
        return _prompt(index, data)
    if name == "gather":
        inputs = f.data.get("input", ["digits"])
        if not isinstance(inputs, list) or "digits" not in inputs:
            raise VerbError(f"{f.where}: 'input' must include \"digits\" (speech is not supported)")
        prompts: list[Prompt] = []
        for key in ("say", "play"):
            if key in f.data:
                nested = f.data[key]
                prompts.append(
                    _prompt(index, {"verb": key, **nested} if isinstance(nested, dict) else nested)
                )
        url, method = f.hook()
        timeout = f.integer("timeout", 5) or 0
        return Gather(
            prompts=tuple(prompts),
            num_digits=f.integer("numDigits", None, lo=1),
            timeout=timeout,
            finish_on_key=finish_keys(f.text("finishOnKey"), "#", f.where),
            action=url,
            method=method,
            action_on_empty_result=True,  # jambonz always reports the outcome to the actionHook
        )
    if name == "record":
        url, method = f.hook()
        return Record(
            max_length=f.integer("maxLength", 3600, lo=1) or 3600,
            timeout=f.integer("timeout", 5) or 0,
            finish_on_key=finish_keys(f.text("finishOnKey"), "1234567890*#", f.where),
            play_beep=f.flag("playBeep", True),
            action=url,
            method=method,
        )
    if name == "dial":
        return _dial(f)
    if name == "conference":
        room = f.text("name", required=True) or ""
        url, method = f.hook()
        return Dial(targets=(DialTarget("conference", room),), action=url, method=method)
    if name == "hangup":
        return Hangup()
    if name == "sip:decline":
        status = f.integer("status", 603)
        if status not in (486, 603):
            raise VerbError(f"{f.where}: 'status' must be 486 (busy) or 603 (decline)")
        return Reject("busy" if status == 486 else "rejected")
    if name == "redirect":
        url, method = f.hook()
        if url is None:
            raise VerbError(f"{f.where}: 'actionHook' is required")
        return Redirect(url, method)
    if name == "enqueue":
        url, method = f.hook()
        wait, _ = f.hook("waitHook")
        return Enqueue(f.text("name", required=True) or "", url, method, wait)
    if name == "leave":
        return Leave()
    if name == "message":
        url, method = f.hook()
        return Message(
            f.text("text", required=True) or "",
            to=f.text("to"),
            from_=f.text("from"),
            action=url,
            method=method,
        )
    raise VerbError(f"{f.where}: unknown verb {name!r}", 12100)


def _dial(f: _Fields) -> Dial:
    raw = f.data.get("target")
    if not isinstance(raw, list) or not raw:
        raise VerbError(f"{f.where}: 'target' must be a non-empty list")
    targets: list[DialTarget] = []
    for i, t in enumerate(raw):
        if not isinstance(t, dict) or t.get("type") not in TARGET_KINDS:
            raise VerbError(f"{f.where}: target[{i}].type must be one of {', '.join(TARGET_KINDS)}")
        kind = TARGET_KINDS[t["type"]]
        value = t.get("number") or t.get("sipUri") or t.get("name")
        if not isinstance(value, str) or not value:
            raise VerbError(f"{f.where}: target[{i}] needs number, sipUri or name")
        hook = t.get("url")
        targets.append(DialTarget(kind, value, hook if isinstance(hook, str) else None))  # type: ignore[arg-type]
    url, method = f.hook()
    return Dial(
        targets=tuple(targets),
        action=url,
        method=method,
        timeout=f.integer("timeout", 30, lo=5, hi=600) or 30,
        time_limit=f.integer("timeLimit", 14400, lo=1, hi=86400) or 14400,
        caller_id=f.text("callerId"),
        answer_on_bridge=f.flag("answerOnBridge", False),
    )


def parse_document(body: str | bytes, content_type: str | None = None) -> Document:
    """A fetched document by its content type (or its first character when the type says nothing):
    JSON → native verbs, else TwiML."""
    ctype = (content_type or "").split(";")[0].strip().lower()
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    if ctype.endswith("json") or (ctype in ("", "text/plain") and text.lstrip()[:1] in ("[", "{")):
        return parse_json_verbs(text)
    from centrex.cpaas.voice.twiml import parse_twiml

    return parse_twiml(text)
