"""The static gallery page of the shipped models."""

import zoo

__getattr__ = zoo.submodules_on_first_use(__name__)  # zoo.page.MODULE after a plain `import zoo`.
