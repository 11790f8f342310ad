"""The engine: one recipe -> one run directory.

The registry finds recipes, config makes their strict typed Configs, the
trainer (with steps, batches, optimizers, checkpoints and the distribution
strategy) trains one into a run directory (rundir), and runs loads and
evaluates a finished one. No argparse and no printing here: results are
returned, progress goes through absl.logging.
"""

import zoo

__getattr__ = zoo.submodules_on_first_use(__name__)  # zoo.engine.MODULE after a plain `import zoo`.
