"""FlowyML experiment tracker on Weights & Biases (type ``wandb``).

Importing this package or its entry-point module does not import wandb: it is
imported when a run starts.
"""

__version__ = "0.1.0"
