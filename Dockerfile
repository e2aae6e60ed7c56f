# syntax=docker/dockerfile:1
# blur-sdk: one image, three roles (docker/entrypoint.sh): `blur` (default, port 8001),
# `snapshot` (port 8080) and `worker` (task consumer, no port). Models are fetched and sha256-verified at build time (the same
# `python -m blur_sdk models` as `make models`); nothing is downloaded at run time.
#
#   docker build -t blur-sdk .
#   docker run -p 8001:8001 -v license:/license blur-sdk
#   docker run -p 8080:8080 -v snapshot-license:/license blur-sdk snapshot
#   docker run -v data:/data -e TASK_QUEUE=redis -e REDIS_URL=redis://redis:6379/0 blur-sdk worker
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- builder: venv with the pinned dependencies, the package, and the verified models --------
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    MODELS_DIR=/opt/models
RUN python -m venv /opt/venv
WORKDIR /app
# Dependencies first (their own layer): exact versions, as tested (tools/gen_requirements.py).
COPY docker/requirements.txt docker/requirements.txt
RUN pip install --no-cache-dir -r docker/requirements.txt
# The package, installed in place: it finds config/ (models.yaml) beside its source, so /app is
# its home in both stages (PROJECT_ROOT = /app). `pip check`: the lock satisfies pyproject.
COPY pyproject.toml README.md ./
COPY blur_sdk blur_sdk
COPY snapshot_stub snapshot_stub
RUN pip install --no-cache-dir --no-deps -e . \
    && pip check \
    && python -m compileall -q blur_sdk snapshot_stub
COPY config config
COPY weights weights
RUN python -m blur_sdk models

# --- runtime: the venv, the models, the app; no compilers, no pip cache, non-root ------------
FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="blur-sdk" \
      org.opencontainers.image.description="On-premise image anonymization (Blur SDK drop-in)" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    CONFIG_DIR=/app/config \
    MODELS_DIR=/opt/models \
    LOGOS_DIR=/app/logos \
    LICENSE_DIR=/license \
    TASKS_DIR=/data/tasks
RUN groupadd --system --gid 10001 blur \
    && useradd --system --no-log-init --uid 10001 --gid blur \
       --create-home --home-dir /home/blur --shell /usr/sbin/nologin blur \
    && mkdir -p /license /data/tasks \
    && chown blur:blur /license /data /data/tasks
COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /opt/models /opt/models
COPY --from=builder /app /app
COPY logos /app/logos
COPY docker/entrypoint.sh docker/healthcheck.py /app/docker/
WORKDIR /app
USER 10001:10001
# Licence state (signed; keeps the offline grace across restarts): one volume per service.
# Tasks and their results (watermark removal): records, inputs, result files, the SQLite queue.
VOLUME ["/license", "/data"]
EXPOSE 8001 8080
# Probes $BIND's port, else 8001 and 8080: only the role's own server listens.
HEALTHCHECK --interval=30s --timeout=10s --start-period=120s --retries=3 \
    CMD ["python", "/app/docker/healthcheck.py"]
ENTRYPOINT ["/bin/sh", "/app/docker/entrypoint.sh"]
CMD ["blur"]
