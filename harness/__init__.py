"""stackharness: a pytest-based drift and test harness for Atmos + Terraform + AWS."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("stackharness")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"
