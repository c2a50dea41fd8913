#!/usr/bin/env bash
# `make run`: start the web app and a Celery worker side by side; Ctrl-C stops both.
# The database is already migrated and seeded by the Makefile. Without CELERY_BROKER_URL /
# REDIS_URL the worker uses the embedded filesystem broker (revive.config.broker_settings).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
HOST=127.0.0.1
PORT=${PORT:-5000}
DATA_DIR=${REVIVE_DATA_DIR:-instance}
mkdir -p "$DATA_DIR"

pids=()
stop() {
  trap - INT TERM EXIT
  echo
  echo "正在停止 web 与 worker…"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait || true
  echo "已停止。"
}
trap stop INT TERM EXIT

# -B: the one local worker also runs the periodic tasks (overdue reminders); production runs a
# separate `celery beat` (docker-compose service "beat").
"$BIN/celery" -A workers.app worker -B --schedule "$DATA_DIR/celerybeat-schedule" \
  --loglevel=INFO --concurrency=2 --without-gossip --without-mingle &
pids+=($!)
"$BIN/gunicorn" --bind "$HOST:$PORT" --workers 2 --access-logfile - revive.wsgi:app &
pids+=($!)

# Print the address once the web app answers (both processes log to this terminal).
for _ in $(seq 60); do
  if "$BIN/python" -c "import urllib.request as u; u.urlopen('http://$HOST:$PORT/login', timeout=1)" \
      2>/dev/null; then
    echo
    echo "================================================================"
    echo " Revive 已启动：http://$HOST:$PORT    （Ctrl-C 停止 web 与 worker）"
    "$BIN/revive" demo-logins
    echo "================================================================"
    break
  fi
  sleep 0.5
done

# Stop everything as soon as either process exits (e.g. the port is already taken).
wait -n
