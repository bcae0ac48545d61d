"""truthstab: a benchmark of the representational stability of truth in language models."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("truthstab")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
