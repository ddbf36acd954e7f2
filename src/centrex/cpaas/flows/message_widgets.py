"""send-message and send-and-wait-for-reply, through the Messenger of cpaas/messaging (its checks:
consent, A2P registration, the carrier connector). Studio's properties: body, from (default
``{{flow.channel.address}}``), to (default ``{{contact.channel.address}}``), timeout (seconds).

- send-message → ``sent`` or ``failed`` (refused by the checks); outputs sid, status, to, from, body.
- send-and-wait-for-reply → ``incomingMessage`` with ``widgets.<name>.inbound.Body`` (and From, To,
  MessageSid), ``timeout`` after ``timeout`` seconds (Studio's default 3600), ``deliveryFailure``
  if the message was refused.
"""

from __future__ import annotations

import asyncio
from typing import Any

from centrex.cpaas.flows import waits
from centrex.cpaas.flows.widgets import FlowContext, Outcome, register
from centrex.cpaas.messaging.checks import Refusal

DEFAULT_TIMEOUT_S = 3600  # Studio's send-and-wait-for-reply default


def _send(ctx: FlowContext, props: dict[str, Any], to: str) -> dict[str, Any]:
    if ctx.engine is None:
        raise ValueError("no flow engine to send through")
    from_ = ctx.render(str(props.get("from") or "{{flow.channel.address}}")).strip()
    body = ctx.render(str(props.get("body", "")))
    row = ctx.engine.messenger_now().send(ctx.tenant_id, from_, to, body)
    return {"sid": row.sid, "status": row.status, "to": to, "from": from_, "body": body}


async def send_message(ctx: FlowContext, props: dict[str, Any]) -> Outcome:
    to = ctx.render(str(props.get("to") or "{{contact.channel.address}}")).strip()
    try:
        sent = await asyncio.to_thread(_send, ctx, props, to)
    except Refusal as refusal:
        return Outcome("failed", {"error": refusal.reason, "to": to})
    return Outcome("sent", sent)


async def send_and_wait_for_reply(ctx: FlowContext, props: dict[str, Any]) -> Outcome:
    if ctx.resume is not None:  # a parked wait taken up by this process (waits.py): no second ask
        resumed, ctx.resume = ctx.resume, None
        outbound = dict(resumed.get("outbound") or {})
        if resumed.get("timeout"):
            return Outcome("timeout", {"outbound": outbound})
        return Outcome("incomingMessage", {"outbound": outbound, "inbound": resumed["inbound"]})
    if ctx.engine is None:
        raise ValueError("no flow engine to send through")
    try:
        timeout_s = float(ctx.render(str(props.get("timeout", DEFAULT_TIMEOUT_S))))
    except ValueError as exc:
        raise ValueError(f"send-and-wait-for-reply: timeout {props.get('timeout')!r} is no number") from exc
    to = ctx.contact_address
    waiting = asyncio.ensure_future(ctx.engine.wait_reply(ctx, timeout_s))  # before the send: no race
    await asyncio.sleep(0)
    try:
        outbound = await asyncio.to_thread(_send, ctx, props, to)
    except Refusal as refusal:
        waiting.cancel()
        return Outcome("deliveryFailure", {"error": refusal.reason, "to": to})
    durable = ctx.channel in ("message", "rest") and ctx.depth == 0  # not a call, not a subflow
    if durable:  # the wait outlives this process: a reply reaching another node (or us after a
        await waits.park(ctx, timeout_s, outbound)  # restart) goes on with it (waits.py)
    reply = await waiting
    if durable:
        await waits.take_up(ctx)  # raises HandedOver if another process took it first
    if reply is None:
        return Outcome("timeout", {"outbound": outbound})
    return Outcome("incomingMessage", {"outbound": outbound, "inbound": reply})


register("send-message", send_message)
register("send-and-wait-for-reply", send_and_wait_for_reply)
