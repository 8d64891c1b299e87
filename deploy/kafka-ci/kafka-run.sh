#!/usr/bin/env bash
# The CI Kafka image's entry point: server.properties from the KAFKA_* environment (the
# apache/kafka convention), storage formatted with CLUSTER_ID once, then the broker in the
# foreground (PID 1's child is replaced by java: SIGTERM stops the broker cleanly).
set -euo pipefail
: "${CLUSTER_ID:?set CLUSTER_ID (a 22-character base64 id, as for apache/kafka)}"
CONFIG=/opt/kafka/config/server.properties
NOT_CONFIG=" KAFKA_HEAP_OPTS KAFKA_OPTS KAFKA_JVM_PERFORMANCE_OPTS KAFKA_LOG4J_OPTS "

: >"$CONFIG"
while IFS='=' read -r name value; do
    [[ $name == KAFKA_* && $NOT_CONFIG != *" $name "* ]] || continue
    key=${name#KAFKA_}
    key=${key,,}
    key=${key//___/-}
    key=${key//__/@}
    key=${key//_/.}
    echo "${key//@/_}=$value" >>"$CONFIG"
done < <(env | sort)

JAVA=(java ${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m} -Djava.awt.headless=true
    -Dlog4j.configuration=file:/opt/kafka/config/log4j.properties -cp '/opt/kafka/libs/*')
"${JAVA[@]}" kafka.tools.StorageTool format -t "$CLUSTER_ID" -c "$CONFIG" --ignore-formatted >/dev/null
exec "${JAVA[@]}" kafka.Kafka "$CONFIG"
