"""The embedded backend: the ama's local store, practice work directories, runner processes."""

from studio_operator.server.backends.embedded.backend import EmbeddedBackend
from studio_operator.server.backends.embedded.practices import PracticeWorkspace, new_practice_id, tenant_home

__all__ = ["EmbeddedBackend", "PracticeWorkspace", "new_practice_id", "tenant_home"]
