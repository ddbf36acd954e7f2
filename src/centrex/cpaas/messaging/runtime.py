"""Which carrier connector a running service uses (setting ``sms_carrier``), started by serve:

- "" (default): none; messages are accepted and kept ``queued``.
- "simulator": the built-in SMSC simulator (simulator.py) on 127.0.0.1:``sms_simulator_port`` (0: a
  free port), and the SMPP connector bound to it: the demo's carrier. Handsets listed in
  ``sms_simulator_failing`` get UNDELIV receipts.
- "smpp://system_id:password@host:port": a carrier's SMSC over SMPP 3.4.
- "http://…" or "https://…": an HTTP JSON carrier (http_connector.py), ``sms_carrier_token`` its key.
"""

from __future__ import annotations

import logging
import urllib.parse
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session, sessionmaker

from centrex.cpaas.messaging.connector import Connector
from centrex.cpaas.messaging.http_connector import HttpConnector
from centrex.cpaas.messaging.service import Messenger
from centrex.cpaas.messaging.simulator import SmscSimulator
from centrex.cpaas.messaging.smpp_connector import SmppConnector

if TYPE_CHECKING:
    from centrex.config import Settings

log = logging.getLogger(__name__)


@dataclass
class Running:
    messenger: Messenger
    simulator: SmscSimulator | None = None

    def stop(self) -> None:
        self.messenger.stop()
        if self.simulator is not None:
            self.simulator.stop()


def connector_for(
    carrier: str, token: str = "", sim_port: int = 0, failing: tuple[str, ...] = ()
) -> tuple[Connector | None, SmscSimulator | None]:
    if not carrier:
        return None, None
    if carrier == "simulator":
        sim = SmscSimulator(port=sim_port, system_id="centrex", password="centrex")
        sim.failing = {n.lstrip("+") for n in failing}
        sim.start()
        return SmppConnector("127.0.0.1", sim.port, "centrex", "centrex"), sim
    url = urllib.parse.urlsplit(carrier)
    if url.scheme == "smpp":
        if not url.hostname or not url.port:
            raise ValueError(f"sms_carrier {carrier!r}: smpp://system_id:password@host:port")
        user = urllib.parse.unquote(url.username or "")
        password = urllib.parse.unquote(url.password or "")
        return SmppConnector(url.hostname, url.port, user, password), None
    if url.scheme in ("http", "https"):
        return HttpConnector(carrier, token), None
    raise ValueError(f"sms_carrier {carrier!r}: expected '', 'simulator', smpp://… or http(s)://…")


def start_messaging(
    sessions: sessionmaker[Session],
    carrier: str,
    *,
    token: str = "",
    sim_port: int = 0,
    failing: tuple[str, ...] = (),
    price_per_segment: Decimal = Decimal("0.0079"),
    inbound_price_per_segment: Decimal = Decimal("0.0079"),
) -> Running:
    connector, sim = connector_for(carrier, token, sim_port, failing)
    messenger = Messenger(
        sessions,
        connector,
        price_per_segment=price_per_segment,
        inbound_price_per_segment=inbound_price_per_segment,
    ).start()
    if sim is not None:
        log.info("SMS carrier: the built-in SMSC simulator on 127.0.0.1:%s", sim.port)
    return Running(messenger, sim)


def start_sms(app: Any, settings: Settings) -> Running | None:
    """serve: the configured carrier started and its Messenger on ``app.state.messaging``."""
    if not settings.sms_carrier:
        return None
    running = start_messaging(
        app.state.sessionmaker,
        settings.sms_carrier,
        token=settings.sms_carrier_token,
        sim_port=settings.sms_simulator_port,
        failing=settings.sms_simulator_failing,
        price_per_segment=settings.sms_price_per_segment,
        inbound_price_per_segment=settings.sms_inbound_price_per_segment,
    )
    app.state.messaging = running.messenger
    where = f" (SMSC simulator on 127.0.0.1:{running.simulator.port})" if running.simulator else ""
    connector = running.messenger.connector
    print(f"centrex: SMS carrier {connector.name if connector else '-'}{where}", flush=True)
    return running
