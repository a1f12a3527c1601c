"""Personality bundles: write, read, verify, pack (see :mod:`.bundle`)."""

from .bundle import (
    MANIFEST_NAME,
    SCHEMA_VERSION,
    Bundle,
    contained_path,
    manifest_to_dict,
    pack_bundle,
    read_bundle,
    unpack_bundle,
    write_bundle,
)
from .champion import ChampionEvent, NoChampionError, champion_of, champion_stack
from .digest import sha256_bytes, sha256_file
from .errors import (
    BundleCorruptError,
    BundleNotFoundError,
    BundleSchemaError,
    BundleWriteError,
    PersonalityError,
    UnknownDeuError,
    UnknownVersionError,
)
from .preview import PREVIEW_DIR, PreviewInfo, is_preview, latest_preview, read_preview, write_preview

__all__ = [
    "MANIFEST_NAME",
    "PREVIEW_DIR",
    "SCHEMA_VERSION",
    "Bundle",
    "ChampionEvent",
    "NoChampionError",
    "BundleCorruptError",
    "BundleNotFoundError",
    "BundleSchemaError",
    "BundleWriteError",
    "PersonalityError",
    "PreviewInfo",
    "UnknownDeuError",
    "UnknownVersionError",
    "champion_of",
    "champion_stack",
    "contained_path",
    "is_preview",
    "latest_preview",
    "manifest_to_dict",
    "pack_bundle",
    "read_bundle",
    "read_preview",
    "sha256_bytes",
    "sha256_file",
    "unpack_bundle",
    "write_bundle",
    "write_preview",
]
