"""Executing pipelines: the engine, the routes, the run results, the step runner."""
