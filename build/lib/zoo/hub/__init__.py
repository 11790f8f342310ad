"""Shipped weights: the pretrained manifest, verified loading, and `ship` (seeds -> card -> manifest)."""

import zoo

__getattr__ = zoo.submodules_on_first_use(__name__)  # zoo.hub.MODULE after a plain `import zoo`.
