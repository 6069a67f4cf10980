"""FlowyML artifact store on Amazon S3 (type ``s3``)."""

__version__ = "0.1.0"
