"""dualwrite: self-hosted bidirectional sync between finance and operations and Dataverse."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("dualwrite")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0"

__all__ = ["__version__"]
