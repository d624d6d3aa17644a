"""Fixtures for users in each role (filled in with the models)."""
