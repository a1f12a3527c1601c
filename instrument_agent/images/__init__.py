"""Pictures without a plotting library: PNG encoding, a colour map and spectrogram images (numpy + zlib).

The agent install stays light (no matplotlib, no Pillow): a PNG is a zlib stream of
filtered scanlines in a few CRC-checked chunks, which :func:`encode_png` writes in pure
numpy + the standard library.
"""

from .colormap import colorize
from .png import PngError, decode_png, encode_png, write_png
from .preview import PREVIEW_DIR, PREVIEW_FILES, write_preview
from .spectrogram import RANGE_DB, log_spectrogram, spectrogram_db, spectrogram_image, spectrogram_images

__all__ = [
    "PREVIEW_DIR",
    "PREVIEW_FILES",
    "RANGE_DB",
    "PngError",
    "colorize",
    "decode_png",
    "encode_png",
    "log_spectrogram",
    "spectrogram_db",
    "spectrogram_image",
    "spectrogram_images",
    "write_png",
    "write_preview",
]
