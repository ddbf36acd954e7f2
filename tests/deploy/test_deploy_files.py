"""The example settings file of docs/deployment.md loads as the service would load it (every key a
real setting, every value valid)."""

from __future__ import annotations

from pathlib import Path

from centrex.config import load_settings

EXAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "centrex.toml.example"


def test_the_example_settings_file_loads() -> None:
    s = load_settings(EXAMPLE)
    assert s.database_url.startswith("postgresql")
    assert (s.external_ip, s.sip_port, s.rtp_ports) == ("203.0.113.5", 5060, (20000, 30000))
    assert s.secrets_key_path == Path("/etc/centrex/secret.key")
    assert s.data_dir == Path("/var/lib/centrex") and s.inactive_deactivate is False
