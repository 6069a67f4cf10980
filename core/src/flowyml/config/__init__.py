"""Reading flowyml.yaml: stacks, components, routing rules."""
