#!/usr/bin/env bash
# Starts, stops and inspects the four Countersign services as background processes on this
# machine (the broker is deploy/local/kafka.sh). Logs: .run/logs/<service>.log.
#   deploy/local/stack.sh start|stop|status|logs
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
RUN="$ROOT/.run"
KEYS="$RUN/keys"
SERVICES=(approval-queue policy-decision execution-binding audit)
declare -A PORTS=([approval-queue]=8081 [policy-decision]=8082 [execution-binding]=8083 [audit]=8084)
READY_TIMEOUT="${READY_TIMEOUT:-90}"

log() { printf '[stack] %s\n' "$*"; }
die() { printf '[stack] ERROR: %s\n' "$*" >&2; exit 1; }

pid_of() { local f="$RUN/pids/$1.pid"; [[ -f "$f" ]] && kill -0 "$(cat "$f")" 2>/dev/null && cat "$f"; }

service_env() {
  local name=$1
  echo "PORT=${PORTS[$name]}"
  echo "KAFKA_BROKERS=${KAFKA_BROKERS:-127.0.0.1:${KAFKA_PORT:-9092}}"
  echo "DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/countersign}"
  echo "LOG_LEVEL=${LOG_LEVEL:-info}"
  echo "POLICY_DECISION_SIGNING_KEY_FILE=$KEYS/policy-decision.key"
  echo "APPROVAL_QUEUE_SIGNING_KEY_FILE=$KEYS/approval-queue.key"
  echo "EXECUTION_BINDING_SIGNING_KEY_FILE=$KEYS/execution-binding.key"
  echo "TRUST_POLICY_DECISION_KEY_FILE=$KEYS/policy-decision.pub"
  echo "TRUST_APPROVAL_QUEUE_KEY_FILE=$KEYS/approval-queue.pub"
  echo "TRUST_EXECUTION_BINDING_KEY_FILE=$KEYS/execution-binding.pub"
  echo "AUDIT_SIGNING_KEY_FILE=$KEYS/audit.key"
  echo "TRUST_AUDIT_KEY_FILE=$KEYS/audit.pub"
  echo "APPROVER_JWT_SECRET_FILE=$KEYS/approver-jwt.secret"
  # The local stack has no identity provider: the reviewers' page takes pasted tokens and #token= links.
  echo "UI_DEV_TOKEN_FORM=${UI_DEV_TOKEN_FORM:-true}"
  echo "EXECUTOR_HTTP_SECRET=$(cat "$KEYS/executor-http.secret")"
  echo "POLICY_DIR=${POLICY_DIR:-$ROOT/policies}"
  echo "EXECUTORS_FILE=${EXECUTORS_FILE:-$ROOT/deploy/local/executors.yaml}"
  # SECURE=1: the service's own Kafka principal (KAFKA_BROKERS + SASL), written by kafka.sh
  if [[ "${KAFKA_SECURE:-0}" == 1 ]]; then cat "$RUN/secure/$name.env"; fi
}

start_one() {
  local name=$1 port=${PORTS[$1]}
  if pid=$(pid_of "$name"); then log "$name already running (pid $pid)"; return; fi
  if (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    die "port $port ($name) is in use by another process; stop it first (ss -ltnp 'sport = :$port')"
  fi
  local main="$ROOT/services/$name/dist/src/main.js"
  [[ -f "$main" ]] || die "$main missing: run 'make build'"
  mkdir -p "$RUN/pids" "$RUN/logs"
  (
    cd "$ROOT"
    set -a
    # shellcheck disable=SC1090
    source <(service_env "$name")
    set +a
    nohup node --disable-warning=TimeoutNegativeWarning "$main" >>"$RUN/logs/$name.log" 2>&1 &
    echo $! >"$RUN/pids/$name.pid"
  )
  log "$name starting on :$port (pid $(cat "$RUN/pids/$name.pid"), log .run/logs/$name.log)"
}

wait_ready() {
  local name=$1 port=${PORTS[$1]} deadline=$((SECONDS + READY_TIMEOUT))
  while ((SECONDS < deadline)); do
    pid_of "$name" >/dev/null || { tail -n 20 "$RUN/logs/$name.log" >&2; die "$name exited during start (log above)"; }
    if curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then log "$name ready: http://localhost:$port"; return; fi
    sleep 0.5
  done
  curl -sS "http://127.0.0.1:$port/readyz" >&2 || true
  die "$name not ready after ${READY_TIMEOUT}s (see .run/logs/$name.log)"
}

stop_one() {
  local name=$1 pid
  if ! pid=$(pid_of "$name"); then rm -f "$RUN/pids/$name.pid"; return; fi
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -0 "$pid" 2>/dev/null && { log "$name did not stop in 30s; killing"; kill -KILL "$pid" 2>/dev/null || true; }
  rm -f "$RUN/pids/$name.pid"
  log "$name stopped"
}

case "${1:-}" in
  start)
    for s in "${SERVICES[@]}"; do start_one "$s"; done
    for s in "${SERVICES[@]}"; do wait_ready "$s"; done
    log "all four services ready; API docs at http://localhost:8081/api/docs (and :8082, :8083, :8084)"
    ;;
  stop) for s in "${SERVICES[@]}"; do stop_one "$s"; done ;;
  status)
    for s in "${SERVICES[@]}"; do
      if pid=$(pid_of "$s"); then echo "$s: running (pid $pid, :${PORTS[$s]})"; else echo "$s: stopped"; fi
    done
    ;;
  logs) mkdir -p "$RUN/logs"; tail -n 50 -F "$RUN"/logs/*.log ;;
  *) echo "usage: $0 start|stop|status|logs" >&2; exit 2 ;;
esac
