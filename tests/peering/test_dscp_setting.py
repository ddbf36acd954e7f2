"""The signalling DSCP setting (config.py ``sip_dscp``; transport/dscp.py): cs3 by default, cs5 when
set, anything else refused naming the setting; each SIP listener (UDP, TCP, TLS) carries it."""

from __future__ import annotations

from pathlib import Path

import pytest

from centrex.calls.service import SipConfig, SipService
from centrex.config import SettingsError, load_settings
from centrex.transport.dscp import get_tos, signalling_tos


def test_cs3_is_the_default_and_cs5_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CENTREX_SIP_DSCP", raising=False)
    assert load_settings().sip_dscp == "cs3" and signalling_tos("cs3") == 24 << 2
    monkeypatch.setenv("CENTREX_SIP_DSCP", "cs5")
    assert load_settings().sip_dscp == "cs5" and signalling_tos("cs5") == 40 << 2
    monkeypatch.setenv("CENTREX_SIP_DSCP", "ef")
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert str(info.value).startswith("CENTREX_SIP_DSCP") and "cs3" in str(info.value)


async def test_every_listener_is_marked_with_the_setting(tmp_path: Path) -> None:
    class Nobody:
        def __getattr__(self, name: str) -> object:
            return lambda *a, **k: None

    config = SipConfig(
        host="127.0.0.1", port=0, tls_port=0, tls_dir=str(tmp_path), signalling_tos=signalling_tos("cs5")
    )
    service = SipService(Nobody(), config)  # type: ignore[arg-type]
    await service.start()
    try:
        assert set(service.transports) == {"UDP", "TCP", "TLS"}
        for name, transport in service.transports.items():
            sock = getattr(transport, "socket", None) or transport._listener  # type: ignore[attr-defined]
            assert get_tos(sock) == 40 << 2, name
    finally:
        await service.stop()
