"""What the app server (apps/server.py) takes from the settings: data and media directories, e-mail
for voicemail, the prompts' voice, its SIP marking and the CPaaS public URL."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from centrex.apps.voicemail import VoicemailSettings
from centrex.config import Settings
from centrex.e911.notifier import SmtpConfig
from centrex.transport.dscp import SIGNALLING_TOS, signalling_tos


@dataclass(frozen=True)
class AppConfig:
    """What the app server needs from the settings. ``prompts``: auto (espeak-ng if installed, else
    tones), espeak, or tones. ``mail_from``: sender of voicemail e-mail (default
    ``voicemail@<domain of CENTREX_SMTP_FROM>``)."""

    data_dir: Path
    media_dir: Path | None = None  # voicemail audio (store/media_files.py); None: the data dir
    smtp: SmtpConfig | None = None
    mail_from: str = ""
    prompts: str = "auto"
    voicemail: VoicemailSettings = field(default_factory=VoicemailSettings)
    sip_tos: int = SIGNALLING_TOS  # its SIP socket's marking, as the switch's (config.py sip_dscp)
    cpaas_public_url: str = "http://127.0.0.1:8080"  # base of RecordingUrl (config.py cpaas_public_url)

    @classmethod
    def from_settings(cls, settings: Settings, **changes: object) -> AppConfig:
        smtp = SmtpConfig.from_settings(settings)
        domain = settings.smtp_from.rpartition("@")[2] or "localhost"
        values: dict[str, object] = {
            "data_dir": settings.data_dir,
            "media_dir": settings.media_root,
            "smtp": smtp,
            "mail_from": f"voicemail@{domain}",
            "sip_tos": signalling_tos(settings.sip_dscp),
            "cpaas_public_url": settings.cpaas_public_url or f"http://127.0.0.1:{settings.http_port}",
        }
        values.update(changes)
        return cls(**values)  # type: ignore[arg-type]
