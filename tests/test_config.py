"""Settings (config.py): every CENTREX_* name that existed before still works; flags beat the
environment, which beats the TOML file, which beats the defaults; a bad value is one line naming it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from centrex.calls.guard import GuardConfig
from centrex.config import ENV, Settings, SettingsError, load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [*ENV.values(), "CENTREX_CONFIG"]:
        monkeypatch.delenv(name, raising=False)


# Names used before config.py was typed (server.py, calls/service.py, config.py): they must stay.
OLD_NAMES = {
    "CENTREX_DATA": ("/srv/centrex", "data_dir", Path("/srv/centrex")),
    "CENTREX_DB": ("postgres://u@db/centrex", "db_url", "postgres://u@db/centrex"),
    "CENTREX_BIND": ("127.0.0.1", "bind", "127.0.0.1"),
    "CENTREX_SIP_PORT": ("5070", "sip_port", 5070),
    "CENTREX_HTTP_PORT": ("8081", "http_port", 8081),
    "CENTREX_RTP_PORTS": ("40000-40999", "rtp_ports", (40000, 40999)),
    "CENTREX_SMTP_HOST": ("mail.example.net", "smtp_host", "mail.example.net"),
    "CENTREX_SMTP_PORT": ("587", "smtp_port", 587),
    "CENTREX_SMTP_FROM": ("pbx@example.net", "smtp_from", "pbx@example.net"),
    "CENTREX_SMTP_STARTTLS": ("yes", "smtp_starttls", True),
    "CENTREX_SMTP_USER": ("pbx", "smtp_user", "pbx"),
    "CENTREX_SMTP_PASSWORD": ("s3cret", "smtp_password", "s3cret"),
    "CENTREX_BUSINESS_CALENDAR": ("none", "business_calendar", "none"),
    "CENTREX_MEDIA_RELAY": ("rtpengine", "media_relay", "rtpengine"),
    "CENTREX_RTPENGINE_NG": ("10.0.0.7:2223", "rtpengine_ng", "10.0.0.7:2223"),
    "CENTREX_SIP_DIGEST": ("md5, sha-256", "sip_digest", ("MD5", "SHA-256")),
    "CENTREX_SIP_TLS_CERT": ("/etc/centrex/cert.pem", "sip_tls_cert", "/etc/centrex/cert.pem"),
    "CENTREX_SIP_TLS_KEY": ("/etc/centrex/key.pem", "sip_tls_key", "/etc/centrex/key.pem"),
    "CENTREX_SIP_RATE": ("500", "sip_rate", 500.0),
    "CENTREX_SIP_BURST": ("2000", "sip_burst", 2000.0),
}


@pytest.mark.parametrize("name", sorted(OLD_NAMES))
def test_every_existing_environment_name_still_works(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    text, field, value = OLD_NAMES[name]
    before = getattr(load_settings(), field)
    monkeypatch.setenv(name, text)
    assert getattr(load_settings(), field) == value != before
    assert ENV[field] == name


def test_an_empty_variable_is_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CENTREX_SIP_RATE", "CENTREX_SIP_PORT", "CENTREX_DB", "CENTREX_SIP_TLS_CERT"):
        monkeypatch.setenv(name, "")
    s = load_settings()
    assert (s.sip_rate, s.sip_port, s.db_url, s.sip_tls_cert) == (50.0, 5060, "", "")


def test_defaults_match_what_the_parts_assume() -> None:
    s = load_settings()
    assert (s.sip_rate, s.sip_burst) == (GuardConfig().rate_per_s, GuardConfig().burst)
    assert s.database_url == f"sqlite:///{Path('var').resolve() / 'centrex.sqlite3'}"
    assert (s.log_level, s.log_format, s.jobs) == ("WARNING", "console", True)
    assert "smtp_password" not in repr(Settings(smtp_password="hunter2"))


def test_flag_beats_environment_beats_file_beats_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    conf = tmp_path / "centrex.toml"
    conf.write_text('sip_port = 5071\nhttp_port = 8082\nlog_format = "json"\nsmtp_host = "mx.example.net"\n')
    monkeypatch.setenv("CENTREX_HTTP_PORT", "8083")
    s = load_settings(conf, sip_port=None, log_format="console")
    assert (s.sip_port, s.http_port, s.log_format, s.smtp_host) == (5071, 8083, "console", "mx.example.net")
    assert s.bind == "0.0.0.0"  # in no source: the default
    monkeypatch.setenv("CENTREX_CONFIG", str(conf))  # the same file named by the environment
    assert load_settings().sip_port == 5071
    assert Settings().sip_port == 5071


@pytest.mark.parametrize(
    ("env", "text", "message"),
    [
        ("CENTREX_SIP_PORT", "70000", "CENTREX_SIP_PORT input should be less than or equal to 65535"),
        ("CENTREX_SIP_PORT", "five", "CENTREX_SIP_PORT input should be a valid integer"),
        ("CENTREX_RTP_PORTS", "30000-20000", "CENTREX_RTP_PORTS '30000-20000': need 1024 <= A < B"),
        ("CENTREX_SMTP_STARTTLS", "maybe", "CENTREX_SMTP_STARTTLS input should be a valid boolean"),
        ("CENTREX_SIP_DIGEST", "MD4", "CENTREX_SIP_DIGEST each digest algorithm must be one of MD5, SHA-256"),
        ("CENTREX_SIP_RATE", "0", "CENTREX_SIP_RATE input should be greater than 0"),
        ("CENTREX_LOG_LEVEL", "LOUD", "CENTREX_LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR"),
        ("CENTREX_LOG_FORMAT", "xml", "CENTREX_LOG_FORMAT input should be 'console' or 'json'"),
        ("CENTREX_MEDIA_RELAY", "kamailio", "CENTREX_MEDIA_RELAY must be one of builtin, rtpengine"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, env: str, text: str, message: str
) -> None:
    monkeypatch.setenv(env, text)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value) and caught.value.name == env


def test_the_file_names_its_own_mistakes(tmp_path: Path) -> None:
    conf = tmp_path / "centrex.toml"
    conf.write_text("sip_prot = 5060\n")
    with pytest.raises(
        SettingsError, match=r"centrex.toml: sip_prot unknown setting \(known: alarm_escalate, alarm_notify, "
    ):
        load_settings(conf)
    conf.write_text('sip_port = "high"\n')
    with pytest.raises(SettingsError, match=r"centrex.toml: sip_port input should be a valid integer"):
        load_settings(conf)
    conf.write_text("sip_port = \n")
    with pytest.raises(SettingsError, match=r"centrex.toml not valid TOML"):
        load_settings(conf)
    with pytest.raises(SettingsError, match=r"missing.toml no such configuration file"):
        load_settings(tmp_path / "missing.toml")


def test_flags_are_named_as_flags() -> None:
    with pytest.raises(SettingsError, match=r"^--http-port input should be less than or equal to 65535"):
        load_settings(http_port=123456)
    with pytest.raises(SettingsError, match=r"^--rtp-ports must look like A-B"):
        load_settings().with_overrides(rtp_ports="lots")


def test_the_command_prints_one_line_and_exits_2(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "CENTREX_DATA": str(tmp_path), "CENTREX_HTTP_PORT": "eighty"}
    cmd = [sys.executable, "-m", "centrex.cli", "db", "upgrade"]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert r.stderr == (
        "error: CENTREX_HTTP_PORT input should be a valid integer, unable to parse string as an "
        "integer, got 'eighty'\n"
    )
    cmd = [sys.executable, "-m", "centrex.cli", "serve", "--log-format", "yaml"]
    r = subprocess.run(
        cmd, env={**env, "CENTREX_HTTP_PORT": "8080"}, capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 2 and r.stderr.startswith(
        "error: --log-format input should be 'console' or 'json'"
    )


def test_serve_config_file_is_seen_by_later_readers(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """billing/collections_service.py reads load_settings() when it needs the business calendar:
    it must see the file given to `centrex serve --config` too."""
    from centrex.cli_common import settings_for

    monkeypatch.setenv("CENTREX_CONFIG", "")  # restored after the test
    conf = tmp_path / "centrex.toml"
    conf.write_text('business_calendar = "none"\n')
    assert settings_for(None, None, conf).business_calendar == "none"
    assert load_settings().business_calendar == "none"
