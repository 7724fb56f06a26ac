"""Load from storage, ask the core, apply: the layer between transports and the pure core."""
