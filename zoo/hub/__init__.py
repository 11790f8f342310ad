"""Shipped weights: the pretrained manifest, verified loading, and `ship` (seeds -> card -> manifest)."""
