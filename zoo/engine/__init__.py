"""The engine: one recipe -> one run directory.

The registry finds recipes, config makes their strict typed Configs, the
trainer (with steps, batches, optimizers, checkpoints and the distribution
strategy) trains one into a run directory (rundir), and runs loads and
evaluates a finished one. No argparse and no printing here: results are
returned, progress goes through absl.logging.
"""


def __getattr__(name):
    """`zoo.PACKAGE.MODULE` after a plain `import zoo`: the module is imported on first use."""
    import importlib

    try:
        return importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as error:
        if error.name != f"{__name__}.{name}":
            raise
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
