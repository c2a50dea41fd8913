#!/usr/bin/env bash
# `make run`: start the web app and a Celery worker side by side, and keep the worker up.
#
# * The worker is restarted whenever it exits or is killed (SIGKILL included): after 1 s, the
#   wait doubling (up to 30 s) while it keeps dying within 30 s of its start. The site stays up
#   meanwhile; tasks sent in between wait in the broker, and a job whose worker died is sent
#   again by the recovery sweep (revive/queue.py).
# * If the web app stops (port already taken, gunicorn's master killed) the script stops the
#   worker and exits 1: without the site there is nothing to use, gunicorn already replaces
#   its own crashed workers, and restarting it in a loop would only hide a port clash.
# * Ctrl-C, SIGTERM or SIGHUP stops both: SIGTERM to each (the worker finishes its running
#   tasks), then SIGKILL to whatever is left after REVIVE_STOP_TIMEOUT seconds (20) or at a
#   second Ctrl-C.
#
# The database is already migrated and seeded by the Makefile. Without CELERY_BROKER_URL /
# REDIS_URL the worker uses the embedded filesystem broker (revive.config.broker_settings).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
HOST=127.0.0.1
PORT=${PORT:-5000}
DATA_DIR=${REVIVE_DATA_DIR:-instance}
STOP_TIMEOUT=${REVIVE_STOP_TIMEOUT:-20}
RESTART_DELAY_MAX=30 # seconds; also how long a worker must live for the wait to start over
mkdir -p "$DATA_DIR"

web_pid=""
worker_pid=""
announcer_pid=""
worker_started=0
restart_delay=1
stop_requested=0
force=0

# Each process starts in a process group of its own (job control on while it starts): a dead
# worker's prefork children and embedded beat are ended with it (a killed worker's beat would
# otherwise live on and keep sending the periodic tasks), and Ctrl-C reaches this script
# alone, which stops everything in order.
spawn() {
  set -m
  "$@" &
  spawned=$!
  set +m
}

alive() { [[ -n $1 ]] && kill -0 "$1" 2>/dev/null; }
group_alive() { [[ -n $1 ]] && kill -0 -- "-$1" 2>/dev/null; }

# How a reaped child ended, for the messages.
how_it_ended() {
  local code=$1
  if ((code > 128)); then
    echo "被信号 $(kill -l $((code - 128)) 2>/dev/null || echo $((code - 128))) 终止"
  else
    echo "退出码 $code"
  fi
}

# A sleep that a signal cuts short: bash holds a trap back until a foreground command ends,
# but not while it waits for a background one.
pause() {
  sleep "$1" &
  local pid=$!
  wait "$pid" 2>/dev/null || true
  kill "$pid" 2>/dev/null || true
}

start_worker() {
  # -B: the one local worker also runs the periodic tasks (overdue reminders, and the recovery
  # sweep that re-sends lost background jobs); production runs a separate `celery beat`
  # (docker-compose service "beat").
  spawn "$BIN/celery" -A workers.app worker -B --schedule "$DATA_DIR/celerybeat-schedule" \
    --loglevel=INFO --concurrency=2 --without-gossip --without-mingle
  worker_pid=$spawned
  worker_started=$SECONDS
  echo "worker 已启动（进程 $worker_pid）"
}

start_web() {
  spawn "$BIN/gunicorn" -c python:revive.gunicorn_conf --bind "$HOST:$PORT" --workers 2 \
    --access-logfile - revive.wsgi:app
  web_pid=$spawned
  echo "网站已启动（进程 $web_pid）"
}

# Print the address and the demo logins once the web app answers (both processes log to this
# terminal). Runs beside the supervising loop, which so watches the processes from the start.
announce() {
  for _ in $(seq 120); do
    if "$BIN/python" -c \
      "import urllib.request as u; u.urlopen('http://$HOST:$PORT/login', timeout=1)" 2>/dev/null; then
      echo
      echo "================================================================"
      echo " Revive 已启动：http://$HOST:$PORT    （Ctrl-C 停止 web 与 worker）"
      "$BIN/revive" demo-logins || true
      echo "================================================================"
      return
    fi
    sleep 0.5
  done
}

# The worker's main process is gone: end what is left of its group, wait, start it again.
restart_worker() {
  local code=0
  wait "$worker_pid" 2>/dev/null || code=$?
  if ((SECONDS - worker_started >= RESTART_DELAY_MAX)); then
    restart_delay=1
  fi
  echo
  echo "worker 已停止（$(how_it_ended "$code")），${restart_delay} 秒后重启；网站继续运行。"
  if group_alive "$worker_pid"; then
    kill -TERM -- "-$worker_pid" 2>/dev/null || true
    local deadline=$((SECONDS + 3))
    while group_alive "$worker_pid" && ((SECONDS < deadline && !stop_requested)); do
      pause 0.1
    done
    kill -KILL -- "-$worker_pid" 2>/dev/null || true
  fi
  ((stop_requested)) || pause "$restart_delay"
  ((stop_requested)) && return
  restart_delay=$((restart_delay * 2 > RESTART_DELAY_MAX ? RESTART_DELAY_MAX : restart_delay * 2))
  start_worker
}

shutdown() {
  trap 'force=1' INT TERM HUP
  echo
  echo "正在停止 web 与 worker…"
  kill -TERM -- "-$announcer_pid" 2>/dev/null || true
  local pid
  for pid in "$worker_pid" "$web_pid"; do
    if alive "$pid"; then
      kill -TERM "$pid" 2>/dev/null || true # the leader stops its own children in order
    elif group_alive "$pid"; then
      kill -TERM -- "-$pid" 2>/dev/null || true # the leader is dead: end what it left
    fi
  done
  local deadline=$((SECONDS + STOP_TIMEOUT))
  while { group_alive "$worker_pid" || group_alive "$web_pid"; } &&
    ((SECONDS < deadline && !force)); do
    sleep 0.2 || true
  done
  for pid in "$worker_pid" "$web_pid" "$announcer_pid"; do
    if group_alive "$pid"; then kill -KILL -- "-$pid" 2>/dev/null || true; fi
  done
  wait "$worker_pid" "$web_pid" "$announcer_pid" 2>/dev/null || true
  echo "已停止。"
}

# Whatever ends the script (an error under `set -e` included), no process is left behind.
on_exit() {
  local pid
  for pid in "$worker_pid" "$web_pid" "$announcer_pid"; do
    if group_alive "$pid"; then kill -KILL -- "-$pid" 2>/dev/null || true; fi
  done
}

trap 'stop_requested=1' INT TERM HUP
trap on_exit EXIT

# The schema first (idempotent; `make run` has done it already): a worker refuses to start on a
# database not migrated (revive.health.schema_problem), and the web answers 503 on /healthz.
"$BIN/revive" db upgrade >/dev/null

start_worker
start_web
spawn announce
announcer_pid=$spawned

# Supervise: look at both processes twice a second until a stop is asked for or the site is
# gone.
web_code=""
while ((!stop_requested)); do
  if ! alive "$web_pid"; then
    web_code=0
    wait "$web_pid" 2>/dev/null || web_code=$?
    echo
    echo "网站进程已退出（$(how_it_ended "$web_code")），正在停止 worker。"
    break
  fi
  if ! alive "$worker_pid"; then
    restart_worker
    continue
  fi
  pause 0.5
done

shutdown
if [[ -n $web_code ]]; then
  exit 1
fi
