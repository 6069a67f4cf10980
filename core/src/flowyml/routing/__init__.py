"""Type-based artifact routing: rules, path templates, deployment decisions."""
