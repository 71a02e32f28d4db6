"""The package version, apart: modules inside the package read it without importing the root."""

__version__ = "0.1.0"
