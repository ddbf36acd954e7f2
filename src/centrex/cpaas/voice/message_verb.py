"""<Message> during a call (issue 16 §1): the messaging part's send (``VoiceEnv.send_message``),
then the action URL with SmsSid and SmsStatus; a refusal (consent, A2P) is said in the call's log.
"""

from __future__ import annotations

from centrex.cpaas.voice.app_session import AppSession
from centrex.cpaas.voice.verbs import Document, Message


class MessageVerb(AppSession):
    """<Message>."""

    async def message(self, m: Message) -> Document | None:
        if self.env.send_message is None:
            await self.notice(
                "<Message> is not available yet on voice calls (messaging not configured)", code=12200
            )
            return None
        try:
            sid = await self.env.send_message(self.call, m)
        except Exception as exc:  # a refusal of the messaging part (consent, A2P): said in the log
            code = getattr(exc, "code", None)
            await self.notice(f"<Message> refused: {exc}", code=code if isinstance(code, int) else None)
            if m.action is None:
                return None
            return await self.fetch(m.action, m.method, self.params() | {"SmsStatus": "failed"})
        if m.action is None:
            return None
        return await self.fetch(m.action, m.method, self.params() | {"SmsSid": sid, "SmsStatus": "sent"})
