"""Choosing a stack and building its components."""
