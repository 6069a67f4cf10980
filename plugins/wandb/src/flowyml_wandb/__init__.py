"""FlowyML experiment tracker on Weights & Biases (type ``wandb``).

Importing this package or its entry-point module does not import wandb: it is
imported when a run starts.
"""

__version__ = "0.1.0"
#: The flowyml plugin API this package is written for (checked when a stack loads it).
FLOWYML_PLUGIN_API = "0.1"
