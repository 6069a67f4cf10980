"""The ``flowyml`` command line."""
