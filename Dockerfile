# newsbot: the same install as the README's first command.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY config ./config
# EXTRAS="[postgres]" adds psycopg for a PostgreSQL deployment (docker-compose.yml does);
# "[metrics]" adds prometheus-client for [metrics] port; "[postgres,metrics]" both.
ARG EXTRAS=""
RUN python3 -m venv .venv && .venv/bin/pip install --no-cache-dir ".${EXTRAS}"
# The bot runs as an unprivileged user that owns only its data folder and its cache (the
# language detector's unpacked model, written by the first process, read by every later one).
RUN useradd --system --uid 10001 --no-create-home --home-dir /nonexistent newsbot \
    && mkdir -p /data /var/cache/newsbot && chown newsbot:newsbot /data /var/cache/newsbot
ENV NEWSBOT_CONFIG=/app/config NEWSBOT_DATA=/data NEWSBOT_CACHE_DIR=/var/cache/newsbot \
    PATH=/app/.venv/bin:$PATH
VOLUME ["/data"]
USER newsbot
# docker stop sends SIGTERM: the bot finishes sending what is due, then exits.
STOPSIGNAL SIGTERM
# Healthy while the poll loop and the sender beat (newsbot health reads /data/health.json).
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 CMD ["newsbot", "health"]
CMD ["newsbot", "run"]
