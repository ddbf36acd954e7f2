"""A customer's voice app for the tests: a threaded http.server on a free port of 127.0.0.1 that
checks every request's X-Twilio-Signature with the official `twilio` package's RequestValidator and
answers from a table of path -> handler(params) -> (content type, body)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from twilio.request_validator import RequestValidator

Handler = Callable[[dict[str, str]], tuple[str, str | bytes]]


@dataclass
class Hit:
    method: str
    path: str
    params: dict[str, str]
    signed: bool  # the twilio package's RequestValidator accepted X-Twilio-Signature


@dataclass
class VoiceWebApp:
    auth_token: str
    routes: dict[str, Handler] = field(default_factory=dict)
    hits: list[Hit] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def base(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> VoiceWebApp:
        app = self
        validator = RequestValidator(self.auth_token)

        class H(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _serve(self, method: str) -> None:
                url = app.base + self.path
                parts = urlsplit(self.path)
                if method == "POST":
                    length = int(self.headers.get("Content-Length") or 0)
                    params = dict(parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True))
                    signed = validator.validate(url, params, self.headers.get("X-Twilio-Signature", ""))
                else:
                    params = dict(parse_qsl(parts.query, keep_blank_values=True))
                    signed = validator.validate(url, {}, self.headers.get("X-Twilio-Signature", ""))
                app.hits.append(Hit(method, parts.path, params, signed))
                handler = app.routes.get(parts.path)
                if handler is None or not signed:
                    self.send_response(404 if handler is None else 403)
                    self.end_headers()
                    return
                ctype, body = handler(params)
                data = body.encode() if isinstance(body, str) else body
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                self._serve("POST")

            def do_GET(self) -> None:
                self._serve("GET")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def paths(self) -> list[str]:
        return [h.path for h in self.hits]


def twiml(body: str) -> tuple[str, str]:
    return "text/xml", f'<?xml version="1.0" encoding="UTF-8"?><Response>{body}</Response>'
