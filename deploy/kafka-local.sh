#!/usr/bin/env bash
# A real Apache Kafka broker for tests and drills, run from Maven Central jars (no Docker).
#
# One KRaft node (broker + controller) on 127.0.0.1. The broker's jars are resolved once with
# Maven (deploy/kafka-local/pom.xml) and reused; its state lives in KAFKA_LOCAL_HOME.
#
# Usage: deploy/kafka-local.sh start|stop|status|env|jars
#   start   start the broker unless it runs; print KAFKA_BOOTSTRAP_SERVERS=... on stdout
#   stop    stop the broker this state directory records (SIGTERM, SIGKILL after 30 s)
#   status  exit 0 if the broker runs, 1 if not
#   env     print KAFKA_BOOTSTRAP_SERVERS=... if the broker runs (exit 1 if not)
#   jars    resolve the broker's jars (once) and print their folder (deploy/kafka-ci builds on it)
#
# Environment (defaults in brackets):
#   KAFKA_LOCAL_HOME             state: jars, data, logs, pid file  [<repo>/.cache/kafka-local]
#   KAFKA_LOCAL_PORT             client port                        [19092]
#   KAFKA_LOCAL_CONTROLLER_PORT  KRaft controller port              [19093]
#   KAFKA_LOCAL_M2               Maven repository cache             [<repo>/.cache/m2]
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HERE=$REPO/deploy/kafka-local
STATE=${KAFKA_LOCAL_HOME:-$REPO/.cache/kafka-local}
PORT=${KAFKA_LOCAL_PORT:-19092}
CONTROLLER_PORT=${KAFKA_LOCAL_CONTROLLER_PORT:-19093}
M2=${KAFKA_LOCAL_M2:-$REPO/.cache/m2}

CLUSTER_ID=T3JjaGVzdHJhdG9yTG9jYQ  # fixed: url-safe base64 of the 16 bytes "OrchestratorLoca"
START_TIMEOUT_S=90
STOP_TIMEOUT_S=30
PROBE_TIMEOUT_S=5  # kafka-python itself would retry the bootstrap for 30 s

mkdir -p "$STATE" "$M2"
STATE=$(cd "$STATE" && pwd)
M2=$(cd "$M2" && pwd)
LIBS=$STATE/libs
LOGS=$STATE/logs
PID_FILE=$STATE/kafka.pid
CONFIG=$STATE/server.properties
BOOTSTRAP=127.0.0.1:$PORT
JAVA=(java -Xms256m -Xmx512m -Djava.awt.headless=true -Dkafka.logs.dir="$LOGS"
    -Dlog4j.configuration="file:$HERE/log4j.properties" -cp "$LIBS/*")

say() { echo "kafka-local: $*" >&2; }

# The recorded pid, if that process is still our broker (guards against pid reuse).
running_pid() {
    [[ -f $PID_FILE ]] || return 1
    local pid
    pid=$(<"$PID_FILE")
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF "kafka.Kafka $CONFIG" || return 1
    echo "$pid"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# True once the broker answers a metadata request (kafka-python if `python` has it).
broker_answers() {
    if command -v python >/dev/null && python -c 'import kafka' 2>/dev/null; then
        timeout "$PROBE_TIMEOUT_S" python - "$BOOTSTRAP" 2>/dev/null <<'EOF'
import sys
from kafka import KafkaAdminClient
admin = KafkaAdminClient(bootstrap_servers=sys.argv[1], request_timeout_ms=5000)
admin.list_topics()
admin.close()
EOF
    else
        port_open "$PORT" && sleep 3
    fi
}

# Copy the broker's runtime jars into $LIBS, once per version of the pom.
resolve_jars() {
    local stamp
    stamp=$(sha256sum "$HERE/pom.xml" | cut -d' ' -f1)
    [[ -f $LIBS/.pom.sha256 && $(<"$LIBS/.pom.sha256") == "$stamp" ]] && return 0
    say "resolving Kafka jars with Maven into $LIBS"
    rm -rf "$LIBS.tmp"
    local mvn=(mvn -q -B -Dstyle.color=never -f "$HERE/pom.xml" -Dmaven.repo.local="$M2"
        dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$LIBS.tmp")
    if ! "${mvn[@]}" -o >"$LOGS/maven.log" 2>&1 && ! "${mvn[@]}" >"$LOGS/maven.log" 2>&1; then
        say "Maven could not resolve the Kafka jars (needs Maven Central once):"
        tail -n 30 "$LOGS/maven.log" >&2
        return 1
    fi
    echo "$stamp" >"$LIBS.tmp/.pom.sha256"
    rm -rf "$LIBS"
    mv "$LIBS.tmp" "$LIBS"
}

write_config() {
    cat >"$CONFIG" <<EOF
# Written by deploy/kafka-local.sh on every start; edit the script, not this file.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$STATE/data
num.partitions=3
default.replication.factor=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
# The default (128 MiB) would take a quarter of the heap at start.
log.cleaner.dedupe.buffer.size=33554432
EOF
}

format_storage() {
    "${JAVA[@]}" kafka.tools.StorageTool format -t "$CLUSTER_ID" -c "$CONFIG" \
        --ignore-formatted >"$LOGS/format.log" 2>&1 || {
        say "formatting $STATE/data failed:"
        tail -n 20 "$LOGS/format.log" >&2
        return 1
    }
}

fail_start() {
    say "$1"
    if [[ -s $LOGS/server.log ]]; then
        local errors
        errors=$(grep -E '^\[[^]]*\] (ERROR|FATAL) ' "$LOGS/server.log" | head -n 10 || true)
        [[ -z $errors ]] || printf -- '--- first errors in %s\n%s\n' "$LOGS/server.log" "$errors" >&2
        echo "--- tail of $LOGS/server.log" >&2
        tail -n 30 "$LOGS/server.log" >&2
    fi
    if [[ -s $LOGS/stdout.log ]]; then
        echo "--- tail of $LOGS/stdout.log" >&2
        tail -n 20 "$LOGS/stdout.log" >&2
    fi
    stop_broker
    say "fix the cause above, then run: $0 start"
    exit 1
}

wait_until_ready() {
    local pid=$1 deadline=$((SECONDS + START_TIMEOUT_S))
    until broker_answers; do
        kill -0 "$pid" 2>/dev/null || fail_start "the broker exited during start"
        ((SECONDS < deadline)) || fail_start "no answer on $BOOTSTRAP after ${START_TIMEOUT_S}s"
        sleep 0.5
    done
}

start_broker() {
    if running_pid >/dev/null; then
        echo "KAFKA_BOOTSTRAP_SERVERS=$BOOTSTRAP"
        return 0
    fi
    rm -f "$PID_FILE"
    local port
    for port in "$PORT" "$CONTROLLER_PORT"; do
        if port_open "$port"; then
            say "port $port is taken by another process:" \
                "choose free ports with KAFKA_LOCAL_PORT and KAFKA_LOCAL_CONTROLLER_PORT"
            exit 1
        fi
    done
    mkdir -p "$LOGS"
    resolve_jars
    write_config
    format_storage
    # This start's log alone, so that a failure shows its own cause.
    [[ -f $LOGS/server.log ]] && mv "$LOGS/server.log" "$LOGS/server.log.prev"
    local started=$SECONDS
    # No stdin and no inherited lock fd: the broker must not hold the caller's pipes or lock.
    "${JAVA[@]}" kafka.Kafka "$CONFIG" </dev/null >"$LOGS/stdout.log" 2>&1 9>&- &
    echo $! >"$PID_FILE"
    wait_until_ready $!
    say "broker up on $BOOTSTRAP in $((SECONDS - started))s (pid $(<"$PID_FILE"), logs in $LOGS)"
    echo "KAFKA_BOOTSTRAP_SERVERS=$BOOTSTRAP"
}

stop_broker() {
    local pid
    if ! pid=$(running_pid); then
        rm -f "$PID_FILE"
        return 0
    fi
    kill -TERM "$pid"
    local deadline=$((SECONDS + STOP_TIMEOUT_S))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.5; done
    if kill -0 "$pid" 2>/dev/null; then
        say "broker (pid $pid) ignored SIGTERM for ${STOP_TIMEOUT_S}s: sending SIGKILL"
        kill -KILL "$pid"
        while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
    fi
    rm -f "$PID_FILE"
    say "broker stopped (pid $pid)"
}

print_env() {
    running_pid >/dev/null || { say "not running: $0 start"; exit 1; }
    echo "KAFKA_BOOTSTRAP_SERVERS=$BOOTSTRAP"
}

# One start or stop at a time per state directory.
locked() {
    exec 9>"$STATE/.lock"
    flock 9
    "$@"
}

main() {
    case ${1:-} in
        start) locked start_broker ;;
        stop) locked stop_broker ;;
        status) running_pid >/dev/null ;;
        env) print_env ;;
        jars) mkdir -p "$LOGS" && locked resolve_jars && echo "$LIBS" ;;
        *) sed -n '2,18s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
    esac
}

main "$@"
