#!/usr/bin/env bash
# Installs (Debian's docker.io) and starts a Docker engine without systemd, idempotently.
# dockerd runs in its own session (setsid), so it outlives the shell that started it.
#   .ci/docker-engine.sh start     install if missing, start unless one answers, wait until ready
#   .ci/docker-engine.sh restart   stop the engine this script started, start it again (e2e tests use it)
set -euo pipefail

LOG=${DOCKERD_LOG:-/var/log/clusterlab-ci-dockerd.log}
PIDFILE=/var/run/docker.pid

wait_ready() {
  for _ in $(seq 1 120); do
    if docker info >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  echo "dockerd did not answer within 60 s; last lines of $LOG:" >&2
  tail -n 30 "$LOG" >&2 || true
  return 1
}

install_packages() {
  local missing=()
  command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
  command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
  [ -x /bin/busybox ] || missing+=(busybox-static)
  command -v script >/dev/null 2>&1 || missing+=(bsdutils)
  command -v chromium >/dev/null 2>&1 || missing+=(chromium) # the dashboard's browser test
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]} from Debian's packages"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

start() {
  install_packages
  if docker info >/dev/null 2>&1; then
    echo "a Docker engine already answers: $(docker version --format '{{.Server.Version}}')"
    return 0
  fi
  # A pid file left by an engine that died would stop a new one from starting.
  if [ -f "$PIDFILE" ] && ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then rm -f "$PIDFILE"; fi
  echo "starting dockerd (log: $LOG)"
  setsid nohup dockerd >>"$LOG" 2>&1 </dev/null &
  wait_ready
  echo "Docker engine $(docker version --format '{{.Server.Version}}') is ready"
}

restart() {
  if [ -f "$PIDFILE" ]; then
    local pid
    pid=$(cat "$PIDFILE")
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 120); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  fi
  rm -f "$PIDFILE"
  setsid nohup dockerd >>"$LOG" 2>&1 </dev/null &
  wait_ready
}

case "${1:-start}" in
  start) start ;;
  restart) restart ;;
  *) echo "usage: $0 start|restart" >&2; exit 2 ;;
esac
