"""Where the studio's state lives: :mod:`.embedded` (a local store and practice runner
processes, the default) or :mod:`.cluster` (Practice resources, S3 / MinIO)."""

__all__ = ["cluster", "embedded"]
