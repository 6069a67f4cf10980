"""FlowyML experiment tracker writing TensorBoard event files with tensorboardX (type ``tensorboard``).

Importing this package or its entry-point module does not import tensorboardX:
it is imported when a run starts.
"""

__version__ = "0.1.0"
