"""The instrument's side of a studio: the gRPC client (:mod:`.studio_client`) and the sync of
personalities into the local store (:mod:`.sync`), and a running practice's previews (:mod:`.previews`).

Submodules load on demand (grpc is imported only when a client is made)."""

__all__ = ["previews", "studio_client", "sync"]
