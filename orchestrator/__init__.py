"""Incident response orchestrator: playbooks in, coordinated tasks out."""
