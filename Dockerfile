# syntax=docker/dockerfile:1
# The Rallybot image: docs/guides/docker.md explains it, compose.yaml runs it.
#   docker build -t rallybot .
# Stage 1 builds the wheel and installs it with every extra, pinned by requirements.lock, into
# a virtual environment; stage 2 copies that environment alone onto a fresh slim image, so no
# compiler, pip cache or source tree ends up in the image.
ARG PYTHON_VERSION=3.11

FROM python:${PYTHON_VERSION}-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
RUN python -m venv /opt/rallybot
COPY pyproject.toml requirements.lock README.md LICENSE config.example.env ./
COPY bot/ bot/
COPY handlers/ handlers/
COPY campaigns/ campaigns/
COPY storage/ storage/
RUN /opt/rallybot/bin/pip wheel --no-deps --wheel-dir /wheels . \
    && /opt/rallybot/bin/pip install -c requirements.lock "$(ls /wheels/rallybot-*.whl)[all]"

FROM python:${PYTHON_VERSION}-slim
# A user of its own, no login shell, owning only its data folder.
RUN useradd --system --uid 10001 --user-group --home-dir /srv/rallybot --create-home \
        --shell /usr/sbin/nologin rallybot \
    && mkdir -p /srv/rallybot/data /srv/rallybot/campaigns \
    && chown rallybot:rallybot /srv/rallybot/data
COPY --from=build /opt/rallybot /opt/rallybot
ENV PATH=/opt/rallybot/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DATABASE_URL=sqlite:////srv/rallybot/data/rallybot.db \
    RALLYBOT_CAMPAIGNS_DIR=/srv/rallybot/campaigns \
    RALLYBOT_HTTP_HOST=0.0.0.0 \
    RALLYBOT_HTTP_PORT=8080 \
    RALLYBOT_LOG_FORMAT=json
WORKDIR /srv/rallybot
USER rallybot
VOLUME ["/srv/rallybot/data"]
EXPOSE 8080
# Ready = database reachable, schema at head, platform connected, not shutting down.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('RALLYBOT_HTTP_PORT', '8080') + '/readyz', timeout=4)"]
ENTRYPOINT ["rallybot"]
CMD ["run", "--platform", "slack"]
