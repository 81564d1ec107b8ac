# Beffroi image for the scale-out topology (compose.yaml): the same image runs
# `beffroi db upgrade`, `beffroi api` and `beffroi worker`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    BEFFROI_DATA_DIR=/data

RUN useradd --create-home --uid 10001 beffroi \
    && mkdir -p /data && chown beffroi /data

WORKDIR /app
COPY . .
# Editable, so that `beffroi db upgrade` finds the migrations in /app/alembic.
RUN pip install --editable .

USER beffroi
EXPOSE 8000
# Health checks are per service in compose.yaml (api: /readyz, worker: --status).
CMD ["beffroi", "api", "--host", "0.0.0.0", "--port", "8000"]
