"""``python -m flowyml``: the same as the ``flowyml`` command."""

from flowyml.cli.main import main

main()
