"""The pure core: Dubbo URL decoding, registry change events, overrides and the versioned catalog.

Standard library only (import-linter enforces it), so every rule here is testable with plain values.
"""
