"""The cluster backend: Practice custom resources through the Kubernetes API, personalities
and practice audio in S3 / MinIO."""

from studio_operator.server.backends.cluster.backend import ClusterBackend
from studio_operator.server.backends.cluster.kube import kube_api_client
from studio_operator.server.backends.cluster.store import ClusterObjectStore, TenantStore

__all__ = ["ClusterBackend", "ClusterObjectStore", "TenantStore", "kube_api_client"]
