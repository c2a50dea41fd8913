#!/bin/sh
# Container entry point.  web: migrate, then serve with gunicorn.  worker: a Celery worker.
# beat: the scheduler of periodic tasks (run exactly one).
# Anything else runs as given (e.g. `docker compose run --rm web revive seed-demo`).
set -e

case "${1:-web}" in
  web)
    revive db upgrade
    exec gunicorn -c python:revive.gunicorn_conf --bind "0.0.0.0:${PORT:-8000}" \
      --workers "${WEB_CONCURRENCY:-2}" --access-logfile - revive.wsgi:app
    ;;
  worker)
    exec celery -A workers.app worker --loglevel="${CELERY_LOG_LEVEL:-INFO}" \
      --concurrency="${WORKER_CONCURRENCY:-2}"
    ;;
  beat)
    exec celery -A workers.app beat --loglevel="${CELERY_LOG_LEVEL:-INFO}" \
      --schedule /data/celerybeat-schedule
    ;;
  *)
    exec "$@"
    ;;
esac
