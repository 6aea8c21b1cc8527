#!/usr/bin/env bash
# The test brokers: one fresh plain broker per Jest worker, so parallel test files never share
# topics (every stack uses the same topic names). Broker i (0-based) listens on BASE+2i with its
# controller on BASE+2i+1 and keeps its state in deploy/local/.kafka/test-<port>. BASE is
# TEST_KAFKA_PORT_BASE (default 19092): another base lets a second checkout test beside this one.
#
# Usage: deploy/local/test-brokers.sh <start|stop|list> [count]
#   start  reset and start `count` brokers (default TEST_WORKERS, else 2) and create every topic
#   stop   stop every test broker this script may have started
#   list   print the TEST_KAFKA_BROKERS value for `count` brokers: lists joined by ';'
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cmd="${1:-}"
count="${2:-${TEST_WORKERS:-2}}"
if ! [[ "$count" =~ ^[1-8]$ ]]; then
  printf '[test-brokers] ERROR: count must be 1 to 8, got %s\n' "$count" >&2
  exit 1
fi

base="${TEST_KAFKA_PORT_BASE:-19092}"
if ! [[ "$base" =~ ^[0-9]+$ ]] || ((base < 1024 || base > 65000)); then
  printf '[test-brokers] ERROR: TEST_KAFKA_PORT_BASE must be a port from 1024 to 65000, got %s\n' "$base" >&2
  exit 1
fi
port_of() { echo $((base + 2 * $1)); }
# Runs kafka.sh <command> for broker $1, in a subshell so the settings stay with it.
kafka_for() (
  port="$(port_of "$1")"
  export KAFKA_SECURE=0 KAFKA_PORT="$port" KAFKA_CONTROLLER_PORT="$((port + 1))"
  export KAFKA_STATE_DIR="$SCRIPT_DIR/.kafka/test-$port"
  "$SCRIPT_DIR/kafka.sh" "$2"
)
list() {
  local out=() i
  for ((i = 0; i < count; i++)); do out+=("127.0.0.1:$(port_of "$i")"); done
  (IFS=';'; echo "${out[*]}")
}

case "$cmd" in
  list) list ;;
  start)
    "$SCRIPT_DIR/kafka.sh" fetch >/dev/null
    pids=()
    for ((i = 0; i < count; i++)); do
      (kafka_for "$i" reset >/dev/null && kafka_for "$i" start) &
      pids+=("$!")
    done
    failed=0
    for p in "${pids[@]}"; do wait "$p" || failed=1; done
    ((failed == 0)) || { echo '[test-brokers] ERROR: a test broker did not start (see its log above)' >&2; exit 1; }
    for ((i = 0; i < count; i++)); do
      KAFKA_BROKERS="127.0.0.1:$(port_of "$i")" node "$SCRIPT_DIR/create-topics.cjs"
    done
    ;;
  stop)
    for ((i = 0; i < 8; i++)); do
      port="$(port_of "$i")"
      if [[ -d "$SCRIPT_DIR/.kafka/test-$port" ]]; then kafka_for "$i" stop || true; fi
    done
    ;;
  *)
    sed -n '2,10p' "$0" >&2
    exit 2
    ;;
esac
