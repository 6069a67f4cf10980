"""FlowyML artifact store on Google Cloud Storage."""
