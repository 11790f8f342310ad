"""Named recipes: one module per recipe, found by file name (see zoo.engine.registry).

A module whose name starts with `_` is a helper, not a recipe.
"""
