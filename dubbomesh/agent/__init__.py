"""Composition root: configuration, CLI, wiring, metrics, health/debug HTTP, persisted state."""
