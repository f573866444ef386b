"""What the sync engine is handed: the registry, permissions, scope, schemas."""
