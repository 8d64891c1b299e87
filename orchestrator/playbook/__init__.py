"""Reading playbook files: YAML in, a compiled Playbook out, or one clear error per mistake."""

from orchestrator.playbook.loader import (
    DEFAULT_ROLES,
    LoadOptions,
    load_directory,
    load_playbook,
    load_playbook_text,
)

__all__ = ["DEFAULT_ROLES", "LoadOptions", "load_directory", "load_playbook", "load_playbook_text"]
