"""FlowyML experiment tracker writing TensorBoard event files with tensorboardX (type ``tensorboard``).

Importing this package or its entry-point module does not import tensorboardX:
it is imported when a run starts.
"""

__version__ = "0.1.0"
#: The flowyml plugin API this package is written for (checked when a stack loads it).
FLOWYML_PLUGIN_API = "0.1"
