"""Kafka runtime: faust workers around the core, and kafka-python tooling for its topics.

build_app / run_worker      the faust app (intake and incident agents, tick timer)
KafkaRuntime                the agent API's runtime: commands to the commands topic, reads back
TopicNames, ensure_topics   the topics of a deployment or drill namespace (prepare_topics: a
                            worker's topics, created before it starts)
produce_log, send_command   feed a namespace: a drill log, a responder command
export_topic                a topic's time range as JSON Lines (a drill log)
collect_summary, wait_idle  the contract summary, once the workers have caught up
TaskFeed                    the role topics' task events for delivery (consumer group
                            <prefix>notify): orchestrator.notify's Feed on Kafka
"""

from orchestrator.runtime.kafka.app import build_app
from orchestrator.runtime.kafka.drills import export_topic, produce_lines, produce_log, send_command
from orchestrator.runtime.kafka.readmodel import collect_summary, latest_incidents, wait_idle
from orchestrator.runtime.kafka.runtime import KafkaRuntime
from orchestrator.runtime.kafka.taskfeed import TaskFeed
from orchestrator.runtime.kafka.topics import TopicNames, describe_topics, ensure_topics
from orchestrator.runtime.kafka.worker import prepare_topics, run_worker

__all__ = [
    "KafkaRuntime",
    "TaskFeed",
    "TopicNames",
    "build_app",
    "collect_summary",
    "describe_topics",
    "ensure_topics",
    "export_topic",
    "latest_incidents",
    "prepare_topics",
    "produce_lines",
    "produce_log",
    "run_worker",
    "send_command",
    "wait_idle",
]
