"""Many runs compared: `compare` (a grid of overrides) and `tune` (keras-tuner search), sharing one train-and-record."""

import zoo

__getattr__ = zoo.submodules_on_first_use(__name__)  # zoo.lab.MODULE after a plain `import zoo`.
