"""Using a trained model: predict, generate, translate, forecast, features, attention and export."""

import zoo

__getattr__ = zoo.submodules_on_first_use(__name__)  # zoo.inference.MODULE after a plain `import zoo`.
