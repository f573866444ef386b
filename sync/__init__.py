"""Doorstep's sync engine: versioned changelog, push/pull, per-field conflicts, scopes.

It never imports Flask: the server hands it a store and a registry of entities.
"""
