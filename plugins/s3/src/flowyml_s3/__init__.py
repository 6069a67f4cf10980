"""FlowyML artifact store on Amazon S3 (type ``s3``)."""

__version__ = "0.1.0"
#: The flowyml plugin API this package is written for (checked when a stack loads it).
FLOWYML_PLUGIN_API = "0.1"
