"""Fixtures for the App Store simulator (filled in with the simulator)."""
