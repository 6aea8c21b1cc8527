#!/usr/bin/env bash
# Local Apache Kafka broker for development and tests: a real broker from the
# Maven Central jars, run with plain `java` in KRaft mode on 127.0.0.1.
# No Docker, no tarball download. See docs/adr/0001-kafka-version.md.
#
# Usage: deploy/local/kafka.sh <command>
#   fetch    download the broker jars with Maven (only if missing or the pom changed)
#   start    fetch if needed, format storage once, start the broker in the
#            background and wait until it answers admin requests
#   stop     stop the broker started by this script (SIGTERM, then SIGKILL after
#            KAFKA_STOP_TIMEOUT seconds); harmless when it is not running
#   restart  stop + start
#   status   print whether the broker is running (exit 0 running, 3 not running)
#   reset    stop and delete the data directory (topics, offsets, cluster id)
#   logs     print the last lines of the broker log (KAFKA_LOG_LINES=n, default 100)
#
# KAFKA_SECURE=1 selects the secure profile, a second broker that can run beside the plain one:
# SASL/SCRAM-SHA-512 on 127.0.0.1:9192 (SASL_SSL with a local CA on :9194, controller :9193),
# the StandardAuthorizer with super.users=User:admin, one SCRAM user per principal and the
# least-privilege ACLs of deploy/local/secure/acl-matrix.cjs, topics created as admin. Passwords,
# client configs, per-service env files and the CA are generated into KAFKA_SECRETS_DIR (never
# committed). Needs node and openssl besides java. See docs/deployment.md.
#
# Environment (all optional):
#   KAFKA_PORT             client listener port          (default 9092; secure 9192)
#   KAFKA_CONTROLLER_PORT  KRaft controller port         (default 9093; secure 9193)
#   KAFKA_STATE_DIR        pidfile, log, rendered config, data (default deploy/local/.kafka;
#                          secure deploy/local/.kafka/secure); the jars stay in .kafka/libs
#   KAFKA_DATA_DIR         log + metadata directory      (default $KAFKA_STATE_DIR/data)
#   KAFKA_CLUSTER_ID       cluster id used when formatting a new data dir
#   KAFKA_HEAP_OPTS        heap flags                    (default -Xms512m -Xmx768m; secure -Xms256m -Xmx512m)
#   KAFKA_SECURE           1 = the secure profile above  (default 0)
#   KAFKA_TLS_PORT         secure: SASL_SSL listener port (default 9194)
#   KAFKA_SECRETS_DIR      secure: generated passwords, admin.properties, <principal>.env,
#                          ca.pem                        (default .run/secure)
#   KAFKA_JVM_OPTS         extra JVM flags
#   KAFKA_START_TIMEOUT    seconds to wait for readiness (default 60; secure 120)
#   KAFKA_STOP_TIMEOUT     seconds to wait before SIGKILL (default 30)
#   JAVA_HOME              java to use (else `java` on PATH)
#   MVN                    maven command (default mvn)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CONF_DIR="$SCRIPT_DIR/kafka"
SECURE_DIR="$SCRIPT_DIR/secure"
POM="$CONF_DIR/pom.xml"
KAFKA_SECURE="${KAFKA_SECURE:-0}"
case "$KAFKA_SECURE" in
  1|true) SECURE=1 ;;
  0|false|'') SECURE=0 ;;
  *) printf '[kafka] ERROR: KAFKA_SECURE must be 0 or 1, got %s\n' "$KAFKA_SECURE" >&2; exit 1 ;;
esac
if (( SECURE )); then
  STATE_DIR="${KAFKA_STATE_DIR:-$SCRIPT_DIR/.kafka/secure}"
  CONFIG_TEMPLATE="$SECURE_DIR/server.properties"
else
  STATE_DIR="${KAFKA_STATE_DIR:-$SCRIPT_DIR/.kafka}"
  CONFIG_TEMPLATE="$CONF_DIR/server.properties"
fi
# An absolute path: the pidfile check matches the broker's command line against it.
[[ -n "${KAFKA_STATE_DIR:-}" ]] && STATE_DIR="$(realpath -m -s "$STATE_DIR")"
# The jars are shared by every profile and state dir: fetched once.
LIBS_DIR="$SCRIPT_DIR/.kafka/libs"
FETCH_LOCK="$SCRIPT_DIR/.kafka/.fetch.lock"
MARKER="$LIBS_DIR/.fetched"
PID_FILE="$STATE_DIR/broker.pid"
LOG_FILE="$STATE_DIR/broker.log"
RENDERED_CONFIG="$STATE_DIR/server.properties"
CLASSES_DIR="$STATE_DIR/classes"
LOCK_FILE="$STATE_DIR/.lock"

DEFAULT_DATA_DIR="$STATE_DIR/data"
KAFKA_DATA_DIR="${KAFKA_DATA_DIR:-$DEFAULT_DATA_DIR}"
if (( SECURE )); then
  KAFKA_PORT="${KAFKA_PORT:-9192}"
  KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9193}"
  KAFKA_TLS_PORT="${KAFKA_TLS_PORT:-9194}"
  # base64url of "local-sec-kafka1"
  KAFKA_CLUSTER_ID="${KAFKA_CLUSTER_ID:-bG9jYWwtc2VjLWthZmthMQ}"
  KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"
  KAFKA_SECRETS_DIR="$(realpath -m -s "${KAFKA_SECRETS_DIR:-$SCRIPT_DIR/../../.run/secure}")"
else
  KAFKA_PORT="${KAFKA_PORT:-9092}"
  KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
  # Fixed id (base64url of "local-dev-kafka1") so every fresh local cluster looks the same.
  KAFKA_CLUSTER_ID="${KAFKA_CLUSTER_ID:-bG9jYWwtZGV2LWthZmthMQ}"
  KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms512m -Xmx768m}"
fi
KAFKA_JVM_OPTS="${KAFKA_JVM_OPTS:-}"
# The secure profile also waits for its users, topics and ACLs: a little more room on a busy machine.
if (( SECURE )); then KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-120}"; else KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-60}"; fi
KAFKA_STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"
MVN="${MVN:-mvn}"

if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then
  JAVA="$JAVA_HOME/bin/java"
else
  JAVA="java"
fi

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
elapsed() { local ms=$(( $(now_ms) - $1 )); printf '%d.%01ds' $((ms / 1000)) $(((ms % 1000) / 100)); }
log() { printf '[kafka] %s\n' "$*"; }
die() { printf '[kafka] ERROR: %s\n' "$*" >&2; exit 1; }

kafka_version() {
  sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$POM" | head -n1
}

# Content of the fetch marker: the version plus a hash of the pom, so editing
# the pom (version or logging binding) triggers a fresh fetch.
fetch_stamp() {
  printf '%s %s\n' "$(kafka_version)" "$(sha256sum "$POM" | cut -d' ' -f1)"
}

require_java() {
  command -v "$JAVA" >/dev/null 2>&1 || die "java not found (set JAVA_HOME or put java on PATH); Kafka $(kafka_version) needs Java 17+"
}

# Validate numeric settings early with a clear message.
check_port_var() {
  local name=$1 value=$2
  [[ "$value" =~ ^[0-9]+$ ]] && (( value > 0 && value < 65536 )) || die "$name must be a TCP port number, got '$value'"
}

with_lock() {
  mkdir -p "$STATE_DIR"
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$LOCK_FILE"
    flock -w 180 9 || die "another kafka.sh command holds $LOCK_FILE"
  fi
}

# ---------------------------------------------------------------- fetch

libs_ready() {
  [[ -f "$MARKER" && "$(cat "$MARKER")" == "$(fetch_stamp)" ]] && compgen -G "$LIBS_DIR/kafka_2.13-*.jar" >/dev/null
}

cmd_fetch() {
  local version
  version="$(kafka_version)"
  [[ -n "$version" ]] || die "cannot read <kafka.version> from $POM"
  if libs_ready; then
    log "Kafka $version jars already present in ${LIBS_DIR#"$SCRIPT_DIR/"}/ ($(ls "$LIBS_DIR"/*.jar | wc -l) jars)"
    return 0
  fi
  command -v "$MVN" >/dev/null 2>&1 || die "maven ('$MVN') not found; it is needed once to fetch the Kafka jars from Maven Central"
  mkdir -p "$STATE_DIR" "$(dirname "$LIBS_DIR")"
  # Brokers with different state dirs share the jars: one fetch at a time (fd 8, released below).
  if command -v flock >/dev/null 2>&1; then
    exec 8>"$FETCH_LOCK"
    flock -w 300 8 || die "another kafka.sh holds $FETCH_LOCK"
    if libs_ready; then exec 8>&-; log "Kafka $version jars fetched meanwhile by another kafka.sh"; return 0; fi
  fi
  local tmp="$LIBS_DIR.tmp" start
  start=$(now_ms)
  rm -rf "$tmp"
  log "fetching Kafka $version + runtime dependencies from Maven Central (mvn dependency:copy-dependencies; ~40s on a cold ~/.m2) ..."
  # Maven's output goes to .kafka/fetch.log (shown on failure, ANSI codes stripped).
  if ! "$MVN" -B -q -Dstyle.color=never -f "$POM" dependency:copy-dependencies \
        -DincludeScope=runtime -DoutputDirectory="$tmp" >"$STATE_DIR/fetch.log" 2>&1 8>&- 9>&-; then
    sed 's/\x1b\[[0-9;]*m//g' "$STATE_DIR/fetch.log" >&2
    rm -rf "$tmp"
    die "maven failed to fetch the Kafka jars (output above, also in $STATE_DIR/fetch.log)"
  fi
  compgen -G "$tmp/kafka_2.13-$version.jar" >/dev/null || { rm -rf "$tmp"; die "fetch finished but kafka_2.13-$version.jar is missing"; }
  fetch_stamp >"$tmp/.fetched"
  rm -rf "$LIBS_DIR" "$CLASSES_DIR"
  mv "$tmp" "$LIBS_DIR"
  exec 8>&-
  log "fetched $(ls "$LIBS_DIR"/*.jar | wc -l) jars ($(du -sh "$LIBS_DIR" | cut -f1)) in $(elapsed "$start")"
}

# ---------------------------------------------------------------- process helpers

# Prints the pid of the broker started by this script, if it is running.
running_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid
  pid="$(cat "$PID_FILE" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  alive "$pid" || return 1
  # Guard against pid reuse: it must be a kafka.Kafka JVM using our config.
  if [[ -r "/proc/$pid/cmdline" ]]; then
    local cmdline
    cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline")"
    [[ "$cmdline" == *kafka.Kafka* && "$cmdline" == *"$RENDERED_CONFIG"* ]] || return 1
  fi
  printf '%s\n' "$pid"
}

# True if the process exists and is not a zombie (an exited child not yet reaped).
alive() {
  local state
  kill -0 "$1" 2>/dev/null || return 1
  state="$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null || true)"
  [[ "$state" != "Z" ]]
}

port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Best effort description of who listens on a port: "pid 123: python3 -m http.server".
port_owner() {
  local port=$1 pid=""
  if command -v ss >/dev/null 2>&1; then
    pid="$(ss -Hltnp "sport = :$port" 2>/dev/null | grep -o 'pid=[0-9]*' | head -n1 | cut -d= -f2 || true)"
  fi
  if [[ -z "$pid" ]] && command -v lsof >/dev/null 2>&1; then
    pid="$(lsof -nP -t -iTCP:"$port" -sTCP:LISTEN 2>/dev/null | head -n1 || true)"
  fi
  if [[ -n "$pid" ]]; then
    local cmd=""
    [[ -r "/proc/$pid/cmdline" ]] && cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline" | cut -c1-160 | sed 's/ *$//')"
    printf 'pid %s: %s' "$pid" "${cmd:-?}"
  else
    printf 'owner unknown (try: ss -ltnp | grep :%s)' "$port"
  fi
}

check_port_free() {
  local name=$1 port=$2
  if port_open "$port"; then
    die "port $port is in use by another process ($(port_owner "$port")); stop it or set $name"
  fi
}

show_log_tail() {
  if [[ -f "$LOG_FILE" ]]; then
    printf '[kafka] ---- last 40 lines of %s ----\n' "$LOG_FILE" >&2
    tail -n 40 "$LOG_FILE" >&2
    printf '[kafka] ----\n' >&2
  fi
}

# Compile the readiness probe once (javac next to java), else run it from source.
# Runs in a background subshell; exec makes the probe JVM replace it.
ready_check() {
  local timeout=$1 pid=$2 javac src="$CONF_DIR/KafkaReady.java"
  local tools_log="-Dlog4j2.configurationFile=$CONF_DIR/log4j2-tools.properties"
  javac="$(dirname "$(command -v "$JAVA")")/javac"
  if [[ -x "$javac" ]]; then
    if [[ ! -f "$CLASSES_DIR/KafkaReady.class" || "$src" -nt "$CLASSES_DIR/KafkaReady.class" ]]; then
      mkdir -p "$CLASSES_DIR"
      "$javac" -nowarn -d "$CLASSES_DIR" -cp "$LIBS_DIR/*" "$src" >/dev/null
    fi
    exec "$JAVA" -Xmx64m "$tools_log" -cp "$CLASSES_DIR:$LIBS_DIR/*" KafkaReady "127.0.0.1:$KAFKA_PORT" "$timeout" "$pid"
  else
    exec "$JAVA" -Xmx64m "$tools_log" -cp "$LIBS_DIR/*" "$src" "127.0.0.1:$KAFKA_PORT" "$timeout" "$pid"
  fi
}

# Secure profile: the admin tool replaces KafkaReady. It waits for the broker as the super user,
# then applies the users, topics and ACLs of the plan (exit 1 when that fails).
secure_ready_check() {
  local timeout=$1 pid=$2 javac src="$SECURE_DIR/SecureAdmin.java"
  local tools_log="-Dlog4j2.configurationFile=$CONF_DIR/log4j2-tools.properties"
  # Compiled once next to the shared jars (every state dir uses it); written via a temp dir, so a
  # concurrent start never loads a half-written class.
  local classes="$LIBS_DIR/../secure-classes"
  javac="$(dirname "$(command -v "$JAVA")")/javac"
  if [[ -x "$javac" ]]; then
    if [[ ! -f "$classes/SecureAdmin.class" || "$src" -nt "$classes/SecureAdmin.class" || "$MARKER" -nt "$classes/SecureAdmin.class" ]]; then
      local tmp
      tmp="$(mktemp -d "$LIBS_DIR/../secure-classes.XXXXXX")"
      "$javac" -nowarn -d "$tmp" -cp "$LIBS_DIR/*" "$src" >/dev/null
      rm -rf "$classes.old"
      [[ -d "$classes" ]] && mv "$classes" "$classes.old"
      mv "$tmp" "$classes"
      rm -rf "$classes.old"
    fi
    exec "$JAVA" -Xmx96m "$tools_log" -cp "$classes:$LIBS_DIR/*" SecureAdmin apply "$KAFKA_SECRETS_DIR/admin.properties" "$timeout" "$pid" "$STATE_DIR/acl-plan.txt"
  else
    exec "$JAVA" -Xmx96m "$tools_log" -cp "$LIBS_DIR/*" "$src" apply "$KAFKA_SECRETS_DIR/admin.properties" "$timeout" "$pid" "$STATE_DIR/acl-plan.txt"
  fi
}

# A random password: 48 hex characters (safe inside JAAS quotes and StorageTool's --add-scram syntax).
new_password() {
  od -An -tx1 -N24 /dev/urandom | tr -d ' \n'
}

# Secure profile: passwords (admin + one per principal), client configs, per-principal env files,
# a local CA with a broker certificate, and the ACL plan. Existing secrets are kept.
prepare_secure() {
  command -v node >/dev/null 2>&1 || die "node not found: the secure profile reads its ACL matrix with node (deploy/local/secure/acl-matrix.cjs)"
  command -v openssl >/dev/null 2>&1 || die "openssl not found: the secure profile generates a local CA and broker certificate with it"
  local secrets="$KAFKA_SECRETS_DIR" name principals made=0
  mkdir -p "$secrets/tls"
  chmod 700 "$secrets" "$secrets/tls"
  principals="$(node "$SECURE_DIR/acl-matrix.cjs" principals)" || die "cannot read deploy/local/secure/acl-matrix.cjs"
  if [[ ! -s "$secrets/admin.password" && -f "$KAFKA_DATA_DIR/meta.properties" ]]; then
    die "$secrets/admin.password is missing but $KAFKA_DATA_DIR was formatted with the old one; run 'KAFKA_SECURE=1 $0 reset' (deletes the secure broker's data)"
  fi
  for name in admin $principals; do
    if [[ ! -s "$secrets/$name.password" ]]; then
      (umask 077; new_password >"$secrets/$name.password")
      made=$((made + 1))
    fi
  done
  local admin_password
  admin_password="$(cat "$secrets/admin.password")"
  (umask 077; cat >"$secrets/admin.properties" <<PROPS
# Kafka client config for the local secure broker's super user (Java tools, kafka-*.sh --command-config).
bootstrap.servers=127.0.0.1:$KAFKA_PORT
security.protocol=SASL_PLAINTEXT
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$admin_password";
PROPS
  )
  for name in $principals; do
    (umask 077; cat >"$secrets/$name.env" <<ENV
KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT
KAFKA_SASL_MECHANISM=scram-sha-512
KAFKA_SASL_USERNAME=$name
KAFKA_SASL_PASSWORD_FILE=$secrets/$name.password
ENV
    )
  done
  if [[ ! -s "$secrets/ca.pem" || ! -s "$secrets/tls/broker.pem" ]]; then
    local t="$secrets/tls"
    (
      umask 077
      openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=Countersign local CA" \
        -addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign' \
        -keyout "$t/ca.key" -out "$secrets/ca.pem" 2>/dev/null
      openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$t/broker.key" -out "$t/broker.csr" 2>/dev/null
      printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n' >"$t/broker.ext"
      openssl x509 -req -in "$t/broker.csr" -CA "$secrets/ca.pem" -CAkey "$t/ca.key" -CAcreateserial -days 825 \
        -extfile "$t/broker.ext" -out "$t/broker.crt" 2>/dev/null
      # Kafka's PEM keystore: the PKCS#8 private key, then the certificate chain.
      cat "$t/broker.key" "$t/broker.crt" "$secrets/ca.pem" >"$t/broker.pem"
      rm -f "$t/broker.csr" "$t/broker.ext" "$t/broker.key" "$t/broker.crt"
    ) || die "openssl could not create the local CA and broker certificate in $t"
    chmod 644 "$secrets/ca.pem"
    log "created a local CA ($secrets/ca.pem) and a broker certificate for 127.0.0.1/localhost"
  fi
  node "$SECURE_DIR/acl-matrix.cjs" plan "$secrets" >"$STATE_DIR/acl-plan.txt" || die "cannot write the ACL plan"
  (( made == 0 )) || log "generated $made password(s) in $secrets"
}

render_config() {
  mkdir -p "$KAFKA_DATA_DIR"
  local data_dir
  data_dir="$(cd "$KAFKA_DATA_DIR" && pwd)"
  local secure_args=()
  if (( SECURE )); then
    secure_args=(-e "s#@KAFKA_TLS_PORT@#$KAFKA_TLS_PORT#g"
                 -e "s#@KAFKA_TLS_KEYSTORE@#$KAFKA_SECRETS_DIR/tls/broker.pem#g"
                 -e "s#@KAFKA_ADMIN_PASSWORD@#$(cat "$KAFKA_SECRETS_DIR/admin.password")#g")
  fi
  (umask 077
   sed -e "s#@KAFKA_PORT@#$KAFKA_PORT#g" \
       -e "s#@KAFKA_CONTROLLER_PORT@#$KAFKA_CONTROLLER_PORT#g" \
       -e "s#@KAFKA_DATA_DIR@#$data_dir#g" \
       "${secure_args[@]}" \
       "$CONFIG_TEMPLATE" >"$RENDERED_CONFIG.tmp")
  (( SECURE )) || chmod 644 "$RENDERED_CONFIG.tmp"
  mv "$RENDERED_CONFIG.tmp" "$RENDERED_CONFIG"
}

format_storage() {
  if [[ -f "$KAFKA_DATA_DIR/meta.properties" ]]; then
    return 0
  fi
  log "formatting storage in $KAFKA_DATA_DIR (cluster id $KAFKA_CLUSTER_ID) ..."
  local out scram=()
  # KRaft: the super user's SCRAM credential must be in the metadata log before the broker starts.
  (( ! SECURE )) || scram=(--add-scram "SCRAM-SHA-512=[name=admin,password=$(cat "$KAFKA_SECRETS_DIR/admin.password")]")
  if ! out="$("$JAVA" -Xmx256m "-Dlog4j2.configurationFile=$CONF_DIR/log4j2-tools.properties" \
        -cp "$LIBS_DIR/*" kafka.tools.StorageTool format \
        -t "$KAFKA_CLUSTER_ID" -c "$RENDERED_CONFIG" "${scram[@]}" 2>&1)"; then
    printf '%s\n' "$out" >&2
    die "kafka.tools.StorageTool format failed"
  fi
  printf '%s\n' "$out" | grep -i '^Formatting' | sed 's/^/[kafka] /' || true
}

# Wait until the broker (pid $1) answers real admin requests (DescribeCluster +
# ListTopics), it exits, or KAFKA_START_TIMEOUT passes. The probe JVM boots in
# parallel with the broker while this loop watches the broker process.
wait_ready() {
  local pid=$1 start_ts=$2 rc=0 probe
  if (( SECURE )); then
    secure_ready_check "$KAFKA_START_TIMEOUT" "$pid" >"$STATE_DIR/ready-check.out" 2>"$STATE_DIR/ready-check.log" 9>&- &
  else
    ready_check "$KAFKA_START_TIMEOUT" "$pid" >/dev/null 2>"$STATE_DIR/ready-check.log" 9>&- &
  fi
  probe=$!
  while alive "$probe"; do
    if ! alive "$pid"; then
      kill "$probe" 2>/dev/null || true
      wait "$probe" 2>/dev/null || true
      rc=3
      break
    fi
    sleep 0.2
  done
  (( rc == 3 )) || wait "$probe" || rc=$?
  if (( SECURE && rc == 1 )); then
    tail -n 5 "$STATE_DIR/ready-check.log" >&2 || true
    die "broker (pid $pid) is up but the users/topics/ACLs could not be applied; 'KAFKA_SECURE=1 $0 stop' to stop it"
  fi
  case $rc in
    0) if (( SECURE )); then
         log "secure: $(cat "$STATE_DIR/ready-check.out")"
         log "ready on 127.0.0.1:$KAFKA_PORT SASL_PLAINTEXT, 127.0.0.1:$KAFKA_TLS_PORT SASL_SSL (pid $pid) after $(elapsed "$start_ts"); credentials in $KAFKA_SECRETS_DIR"
       else
         log "ready on 127.0.0.1:$KAFKA_PORT (pid $pid) after $(elapsed "$start_ts")"
       fi ;;
    3) rm -f "$PID_FILE"
       show_log_tail
       if grep -q 'Address already in use' "$LOG_FILE" 2>/dev/null; then
         if (( SECURE )); then
           die "broker could not bind its ports: another process took 127.0.0.1:$KAFKA_PORT, :$KAFKA_CONTROLLER_PORT or :$KAFKA_TLS_PORT; stop it or set KAFKA_PORT / KAFKA_CONTROLLER_PORT / KAFKA_TLS_PORT"
         fi
         die "broker could not bind its ports: another process took 127.0.0.1:$KAFKA_PORT or :$KAFKA_CONTROLLER_PORT; stop it or set KAFKA_PORT / KAFKA_CONTROLLER_PORT"
       fi
       die "broker exited during startup (see ${LOG_FILE})" ;;
    *) show_log_tail
       tail -n 1 "$STATE_DIR/ready-check.log" >&2 || true
       die "broker (pid $pid) did not answer admin requests within ${KAFKA_START_TIMEOUT}s; '$0 stop' to stop it" ;;
  esac
}

# ---------------------------------------------------------------- commands

cmd_start() {
  check_port_var KAFKA_PORT "$KAFKA_PORT"
  check_port_var KAFKA_CONTROLLER_PORT "$KAFKA_CONTROLLER_PORT"
  [[ "$KAFKA_PORT" != "$KAFKA_CONTROLLER_PORT" ]] || die "KAFKA_PORT and KAFKA_CONTROLLER_PORT must differ"
  if (( SECURE )); then
    check_port_var KAFKA_TLS_PORT "$KAFKA_TLS_PORT"
    [[ "$KAFKA_TLS_PORT" != "$KAFKA_PORT" && "$KAFKA_TLS_PORT" != "$KAFKA_CONTROLLER_PORT" ]] || die "KAFKA_TLS_PORT must differ from KAFKA_PORT and KAFKA_CONTROLLER_PORT"
  fi
  require_java
  with_lock

  local pid
  if pid="$(running_pid)"; then
    local port
    port="$(sed -n 's#^advertised.listeners=[A-Z_]*://127.0.0.1:\([0-9]*\).*#\1#p' "$RENDERED_CONFIG" 2>/dev/null || true)"
    [[ -z "$port" || "$port" == "$KAFKA_PORT" ]] || log "note: KAFKA_PORT=$KAFKA_PORT differs; run '$0 stop' first to change it"
    if port_open "${port:-$KAFKA_PORT}"; then
      log "already running (pid $pid) on 127.0.0.1:${port:-?}; nothing to do"
      return 0
    fi
    log "already started (pid $pid) but not answering yet; waiting ..."
    KAFKA_PORT="${port:-$KAFKA_PORT}"
    wait_ready "$pid" "$(now_ms)"
    return 0
  fi
  rm -f "$PID_FILE"

  check_port_free KAFKA_PORT "$KAFKA_PORT"
  check_port_free KAFKA_CONTROLLER_PORT "$KAFKA_CONTROLLER_PORT"
  (( ! SECURE )) || check_port_free KAFKA_TLS_PORT "$KAFKA_TLS_PORT"

  cmd_fetch
  (( ! SECURE )) || prepare_secure
  render_config
  format_storage

  [[ -f "$LOG_FILE" ]] && mv -f "$LOG_FILE" "$LOG_FILE.1"
  local start_ts
  start_ts=$(now_ms)
  log "starting Kafka $(kafka_version)$( (( SECURE )) && echo ' (secure)') on 127.0.0.1:$KAFKA_PORT (controller 127.0.0.1:$KAFKA_CONTROLLER_PORT), log: ${LOG_FILE#"$SCRIPT_DIR/"}"
  (
    # The broker outlives this script: it must not keep any descriptor the caller holds open, such
    # as a `flock <file> make test-kafka` lock, which would stay taken for as long as the broker runs.
    for fd in /proc/self/fd/*; do
      fd="${fd##*/}"
      if (( fd > 2 )); then eval "exec ${fd}>&-" 2>/dev/null || true; fi
    done
    # shellcheck disable=SC2086  # heap/JVM opts are intentionally word-split
    exec nohup setsid "$JAVA" $KAFKA_HEAP_OPTS \
      -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
      -XX:+ExplicitGCInvokesConcurrent -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
      "-Dlog4j2.configurationFile=$CONF_DIR/log4j2.properties" \
      $KAFKA_JVM_OPTS \
      -cp "$LIBS_DIR/*" kafka.Kafka "$RENDERED_CONFIG" \
      >"$LOG_FILE" 2>&1 </dev/null
  ) &
  pid=$!
  echo "$pid" >"$PID_FILE"

  wait_ready "$pid" "$start_ts"
}

cmd_stop() {
  with_lock
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$PID_FILE"
    log "not running; nothing to stop"
    return 0
  fi
  log "stopping broker (pid $pid) ..."
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + KAFKA_STOP_TIMEOUT))
  while alive "$pid"; do
    if (( SECONDS >= deadline )); then
      log "still running after ${KAFKA_STOP_TIMEOUT}s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.5
      break
    fi
    sleep 0.2
  done
  rm -f "$PID_FILE"
  log "stopped"
}

cmd_status() {
  local pid
  if pid="$(running_pid)"; then
    local port
    port="$(sed -n 's#^advertised.listeners=[A-Z_]*://127.0.0.1:\([0-9]*\).*#\1#p' "$RENDERED_CONFIG" 2>/dev/null || true)"
    if port_open "${port:-$KAFKA_PORT}"; then
      echo "running (pid $pid, Kafka $(kafka_version), 127.0.0.1:${port:-$KAFKA_PORT})"
    else
      echo "running (pid $pid, Kafka $(kafka_version)) but 127.0.0.1:${port:-$KAFKA_PORT} is not accepting connections yet"
    fi
    return 0
  fi
  echo "not running"
  return 3
}

cmd_reset() {
  cmd_stop
  # Refuse to delete a custom directory that does not look like Kafka data.
  if [[ -d "$KAFKA_DATA_DIR" ]]; then
    local abs
    abs="$(cd "$KAFKA_DATA_DIR" && pwd)"
    if [[ "$abs" != "$DEFAULT_DATA_DIR" && ! -f "$abs/meta.properties" && -n "$(ls -A "$abs")" ]]; then
      die "refusing to delete $abs: not the default data dir and no meta.properties inside"
    fi
    rm -rf "$abs"
    log "deleted data dir $abs"
  else
    log "data dir $KAFKA_DATA_DIR does not exist; nothing to delete"
  fi
}

cmd_logs() {
  [[ -f "$LOG_FILE" ]] || die "no broker log yet ($LOG_FILE)"
  tail -n "${KAFKA_LOG_LINES:-100}" "$LOG_FILE"
}

usage() {
  sed -n '2,/^set -euo pipefail/p' "${BASH_SOURCE[0]}" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//'
}

case "${1:-}" in
  fetch)   with_lock; cmd_fetch ;;
  start)   cmd_start ;;
  stop)    cmd_stop ;;
  restart) cmd_stop; cmd_start ;;
  status)  cmd_status ;;
  reset)   cmd_reset ;;
  logs)    cmd_logs ;;
  -h|--help|help) usage ;;
  *) usage >&2; exit 2 ;;
esac
