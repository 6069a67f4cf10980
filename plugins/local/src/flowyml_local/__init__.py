"""FlowyML's built-in backend: every component kind, with type ``local``."""

__version__ = "0.1.0"
