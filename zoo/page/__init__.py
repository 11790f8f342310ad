"""The static gallery page of the shipped models."""
