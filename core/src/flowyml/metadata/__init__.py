"""The embedded SQLite metadata store: runs, steps, artifacts, lineage."""
