"""The personality registry: where practices publish versions.

* :class:`LocalRegistry` — the local store (``$AMADEUS_HOME``), the embedded default;
* :class:`S3Registry` — S3 / MinIO through the ``minio`` client (layout in :mod:`.s3`);
* :class:`S3Connection` — the one S3 client factory and retry policy (the studio's object store uses it too);
* :class:`MlflowCatalog` — MLflow model registry: one model per deu, aliases
  ``latest`` and ``champion``;
* :func:`open_registry` — the one the configuration (``AMADEUS_REGISTRY``,
  ``AMADEUS_S3_ENDPOINT``, ``MLFLOW_TRACKING_URI``) names.

``minio`` and ``mlflow`` load only when an S3 store or catalog is opened.
"""

from ._retry import Backoff
from .config import Registry, RegistryConfig, open_registry
from .errors import RegistryConfigError, RegistryConflictError, RegistryError, RegistryUnavailableError
from .local import LocalRegistry
from .mlflow_catalog import MlflowCatalog
from .s3 import S3Registry, parse_s3_uri
from .s3_client import S3Connection, s3_endpoint_url

__all__ = [
    "Backoff",
    "LocalRegistry",
    "MlflowCatalog",
    "Registry",
    "RegistryConfig",
    "RegistryConfigError",
    "RegistryConflictError",
    "RegistryError",
    "RegistryUnavailableError",
    "S3Connection",
    "S3Registry",
    "open_registry",
    "parse_s3_uri",
    "s3_endpoint_url",
]
