"""Many runs compared: `compare` (a grid of overrides) and `tune` (keras-tuner search), sharing one train-and-record."""


def __getattr__(name):
    """`zoo.PACKAGE.MODULE` after a plain `import zoo`: the module is imported on first use."""
    import importlib

    try:
        return importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as error:
        if error.name != f"{__name__}.{name}":
            raise
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
