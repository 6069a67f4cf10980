"""FlowyML backends for Vertex AI."""
