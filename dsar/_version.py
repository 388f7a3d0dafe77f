"""The workbench's version, in one place (artifacts and manifests record it)."""

__version__ = "0.1.0"
