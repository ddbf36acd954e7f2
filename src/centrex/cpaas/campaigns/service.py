"""The campaign runner in `centrex serve` (setting ``campaigns``, on by default): it sends SMS
through the process's Messenger (``app.state.messaging``, the configured carrier; without one,
messages are kept queued) and places voice-app calls through the call desk
(``app.state.cpaas_calls``). Why a service task and not a scheduler job: runner.py."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from centrex.cpaas.calls.desk import CallDesk
from centrex.cpaas.campaigns.runner import CampaignRunner
from centrex.cpaas.messaging.service import Messenger

if TYPE_CHECKING:
    from centrex.config import Settings


def start_campaigns(app: Any, settings: Settings) -> CampaignRunner | None:
    app.state.campaign_max_rate_per_s = settings.campaign_max_rate_per_s
    if not settings.campaigns:
        return None

    def messenger() -> Messenger | None:
        found = getattr(app.state, "messaging", None)
        return found if isinstance(found, Messenger) else None

    def desk() -> CallDesk | None:
        found = getattr(app.state, "cpaas_calls", None)
        return found if isinstance(found, CallDesk) else None

    return CampaignRunner(
        app.state.sessionmaker,
        messenger=messenger,
        desk=desk,
        tick_s=settings.campaign_tick_s,
        max_rate=settings.campaign_max_rate_per_s,
    ).start()
