# newsbot: the same install as the README's first command.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY config ./config
# EXTRAS="[postgres]" adds psycopg for a PostgreSQL deployment (docker-compose.yml does).
ARG EXTRAS=""
RUN python3 -m venv .venv && .venv/bin/pip install --no-cache-dir ".${EXTRAS}"
ENV NEWSBOT_CONFIG=/app/config NEWSBOT_DATA=/data PATH=/app/.venv/bin:$PATH
VOLUME ["/data"]
CMD ["newsbot", "run"]
