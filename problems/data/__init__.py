"""Vendored data files (exact upstream bytes) and their verified loaders."""
