"""Kafka adapter: the orchestrator's topic names and their administration on a cluster."""

from orchestrator.kafka.topics import TopicNames, describe_topics, ensure_topics

__all__ = ["TopicNames", "describe_topics", "ensure_topics"]
