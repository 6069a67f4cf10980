"""flowyml-ui: the local web dashboard of a FlowyML project (``flowyml ui``).

The ``flowyml ui`` command comes from :mod:`flowyml_ui.commands` (a general
plugin implementing ``flowyml_register_commands``); the web app is built by
:func:`flowyml_ui.app.create_app` and reads everything through
:class:`flowyml.Client`.
"""

__version__ = "0.1.0"
#: The flowyml plugin API this package is written for (checked when a stack loads it).
FLOWYML_PLUGIN_API = "0.1"
