# syntax=docker/dockerfile:1
# The on-call bot's image: `docker build -t oncall-bot .` (see docs/deploy.md).
#
# Two stages. `build` installs the bot and its dependencies into /opt/venv (an editable install
# of /app: the bot finds migrations/ and data/ next to its package) and trims what a running
# bot never uses; binutils (for `strip`) stays in this stage. The final stage is the slim base,
# the venv, the app and a non-root user: no compiler, no pip, no build tools.
#
# Size: python:3.11-slim-bookworm (about 125 MB) + venv and app (about 50 MB, measured by
# tests/ops/test_deploy.py) = under 200 MB. The venv carries no .pyc files: Python compiles on
# first import into PYTHONPYCACHEPREFIX (/tmp/pycache), so only the first start of a container
# pays for it (2-3 s) and the image stays small.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1
RUN apt-get update && apt-get install -y --no-install-recommends binutils && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md alembic.ini manifest.yaml ./
COPY bot/ bot/
COPY migrations/ migrations/
COPY data/ data/
COPY deploy/entrypoint.sh deploy/slim-venv.sh deploy/
# The base image's pip installs into a venv that never gets a pip of its own (--python).
RUN python -m venv --without-pip /opt/venv \
    && python -m pip --python /opt/venv/bin/python install --no-compile -e /app \
    && sh /app/deploy/slim-venv.sh /opt/venv

FROM ${PYTHON_IMAGE}
# tzdata: zoneinfo reads the `tzdata` Python package installed in the venv (a dependency of the
# bot), so the image needs no system time zone files; times are computed in the seed's zone.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONPYCACHEPREFIX=/tmp/pycache \
    ONCALL_DATABASE_URL=sqlite+aiosqlite:////data/oncall.db \
    ONCALL_HTTP_PORT=3000 \
    ONCALL_LOG_FORMAT=json
RUN groupadd --system --gid 10001 oncall \
    && useradd --system --uid 10001 --gid oncall --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin oncall \
    && install -d -o oncall -g oncall -m 0750 /data
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
WORKDIR /app
USER 10001:10001
VOLUME ["/data"]
EXPOSE 3000
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=40s --retries=3 CMD ["python", "-m", "bot.ops.healthcheck"]
ENTRYPOINT ["/app/deploy/entrypoint.sh"]
CMD ["oncall-bot", "run"]
