# One image for the web app and the Celery workers (docker-compose.yml picks the command).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    REVIVE_DATA_DIR=/data \
    NUMBA_CACHE_DIR=/app/.numba_cache

WORKDIR /app

# Dependencies first, from pyproject.toml alone, so code changes reuse this layer.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY . .
# Editable on purpose: templates/ and migrations/ sit beside the package and are found through
# revive.config.PROJECT_ROOT, i.e. from the source tree in /app. The search kernels are compiled
# here into NUMBA_CACHE_DIR (the source tree is not writable for the revive user).
RUN pip install --no-deps -e . \
    && python -c "from revive.engine.preload import warm; warm()" \
    && useradd --system --home-dir /app --shell /usr/sbin/nologin revive \
    && mkdir -p /data \
    && chown revive:revive /data \
    && chown -R revive:revive /app/.numba_cache \
    && chmod +x docker/entrypoint.sh

USER revive
VOLUME ["/data"]
EXPOSE 8000

ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["web"]
