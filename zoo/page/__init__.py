"""The static gallery page of the shipped models."""


def __getattr__(name):
    """`zoo.PACKAGE.MODULE` after a plain `import zoo`: the module is imported on first use."""
    import importlib

    try:
        return importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as error:
        if error.name != f"{__name__}.{name}":
            raise
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
