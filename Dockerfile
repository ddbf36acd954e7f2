# Centrex container image (docs/deployment.md, "Container image"). Build: docker build -t centrex .
# The install is the tested one: scripts/install with constraints.txt (scripts/lock), on the Debian
# and Python the tests run on (bookworm, 3.11); tests/deploy/test_install.py keeps them in step.
# Run (host networking: SIP and RTP ports are many and NAT in front of SIP is to be avoided):
#   docker run -d --network host -v centrex-data:/var/lib/centrex \
#     -v /etc/centrex/secret.key:/etc/centrex/secret.key:ro -e CENTREX_DB=postgresql://... centrex
FROM python:3.11-slim-bookworm

# espeak-ng: spoken voicemail prompts (apps/prompts.py), as scripts/serve installs it.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends espeak-ng \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home-dir /var/lib/centrex --create-home --shell /usr/sbin/nologin centrex

WORKDIR /opt/centrex
COPY pyproject.toml constraints.txt README.md ./
COPY scripts/install scripts/install
COPY src src
RUN python -m pip install -q --no-cache-dir --upgrade pip \
    && scripts/install python --no-cache-dir .

USER centrex
ENV CENTREX_DATA=/var/lib/centrex \
    CENTREX_SECRETS_KEY_FILE=/etc/centrex/secret.key
VOLUME ["/var/lib/centrex"]
# SIP UDP/TCP, SIP over TLS, the API (behind a TLS reverse proxy), RTP relay ports (rtp_ports).
EXPOSE 5060/udp 5060/tcp 5061/tcp 8080/tcp 20000-30000/udp
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)" || exit 1
ENTRYPOINT ["centrex"]
CMD ["serve"]
