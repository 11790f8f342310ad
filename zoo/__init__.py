"""The zoo's Python API: functions that return values and print nothing.

    import zoo
    zoo.list_recipes()                                   # ['binary_mlp', 'digits_cnn', ...]
    result = zoo.train("perceptron_gates", {"gate": "xor"}, "runs/xor")
    digits = zoo.load("digits_mlp", pretrained=True)     # load once, ask many times
    zoo.predict(digits, "docs/digit_5.csv")              # [Prediction(class 5 (probability 0.9999))]
    zoo.generate("music_lstm", length=400, seed=1)       # a name means its shipped checkpoint
    zoo.translate("translate_transformer", "twenty-one thousand and five")

Every command of `python -m zoo` parses its flags, calls one of these and
prints what it returns. The names are imported on first use, so `import zoo`
and `python -m zoo list` do not load TensorFlow. In a notebook (a Jupyter kernel)
`import zoo` does load it, without its C++ start-up lines (zoo/native_logs.py).

Where a function takes `model`, pass what `zoo.load` returns, or a recipe's
name for its shipped checkpoint (loaded once per process).
"""

import importlib

from zoo import native_logs

# Public name -> the module that defines it.
_EXPORTS = {
    "Recipe": "zoo.engine.registry",
    "get_recipe": "zoo.engine.registry",
    "list_recipes": "zoo.engine.registry",
    "TrainResult": "zoo.engine.trainer",
    "load_pretrained": "zoo.hub.pretrained",
}

__all__ = sorted([
    *_EXPORTS, "make_config", "train", "evaluate", "load", "predict", "forecast", "generate", "translate",
    "attention", "features", "compare", "tune", "ship", "export",
])


def make_config(recipe, overrides=None):
    """The recipe's Config with `overrides` (a dict or ["key=value", ...]) applied, strictly typed.

        config = zoo.make_config("digits_mlp", {"epochs": 3, "learning_rate": 0.01})
    """
    from zoo.engine import config, registry

    if isinstance(recipe, str):
        recipe = registry.get_recipe(recipe)
    return config.make_config(recipe.Config, overrides)


def _recipe(recipe):
    from zoo.engine import registry

    return registry.get_recipe(recipe) if isinstance(recipe, str) else recipe


def train(recipe, config=None, workdir=None, *, strategy=None, verbose=True):
    """Trains a recipe into a run directory (resuming the run already there) and returns a TrainResult.

        result = zoo.train("digits_mlp", {"epochs": 3})   # runs/digits_mlp
        result.best["accuracy"], result.model

    Args:
        recipe: a recipe's name, a recipe file's path, or a `Recipe`.
        config: the recipe's Config, or overrides for it (a dict or ["key=value"]);
            None for the defaults.
        workdir: the run directory (default runs/NAME).
        strategy: a `tf.distribute.Strategy` (default: chosen from the devices and TF_CONFIG).
        verbose: a progress bar and a line per epoch.
    """
    from zoo.engine import rundir, trainer

    recipe = _recipe(recipe)
    if config is None or isinstance(config, (dict, list, tuple)):
        config = make_config(recipe, config)
    workdir = workdir or rundir.default_workdir(recipe.name)
    return trainer.train(recipe, config, workdir, strategy=strategy, verbose=verbose)


def evaluate(recipe, workdir=None, *, pretrained=False, split="test", weights="best", strategy=None) -> dict:
    """Loss and metrics of a run's weights (or the shipped checkpoint) on one split.

        zoo.evaluate("digits_mlp", pretrained=True)   # {'loss': 0.07, 'accuracy': 0.970}
    """
    from zoo.engine import runs

    loaded = load(recipe, workdir, pretrained=pretrained, weights=weights)
    return runs.evaluate_model(loaded.recipe, loaded.model, loaded.splits, split, strategy)


def load(recipe, workdir=None, *, pretrained=False, weights="best"):
    """A trained model with its config, dataset info, splits and recipe; see inference/loading.py.

        digits = zoo.load("digits_mlp", pretrained=True)
        digits.model.summary()
    """
    from zoo.inference import loading

    return loading.load(recipe, workdir, pretrained=pretrained, weights=weights)


def predict(model, inputs) -> list:
    """Predictions of a classifier, regressor or forecaster, one per example, as `Prediction`s.

        zoo.predict("digits_mlp", "docs/digit_5.csv")  # a CSV or PNG file, read like the training images
        zoo.predict("binary_mlp", [[14.2, 20.1, ...]])  # rows in the data's own units

    `inputs` is a file path, bytes (CSV, PNG or ABC, as `zoo predict` reads),
    or an array of rows in the data's original units.
    """
    from zoo.inference import loading, predict as predicting

    return predicting.predict(loading.resolve(model), inputs)


def forecast(model, window) -> "object":
    """The next values after `window` (the past values, in the series' units), as a `Prediction`.

        zoo.forecast("forecast_lstm", co2_last_months).values
    """
    from zoo.inference import loading, predict as predicting

    return predicting.forecast(loading.resolve(model), window)


def generate(model, *, prompt=None, length=400, temperature=1.0, seed=0, num_tunes=0):
    """Samples text (or ABC tunes) from a language model, as a `Generation`.

        tunes = zoo.generate("music_lstm", length=600, temperature=0.8, seed=1).tunes
        tunes[0].abc, tunes[0].valid

    The same seed gives the same text. `num_tunes=K` draws K samples (seeds seed, seed+1, ...)
    and keeps the first tune of each; 0 keeps every tune of one sample.
    """
    from zoo.inference import generate as generating, loading

    return generating.generate(loading.resolve(model), prompt=prompt, length=length, temperature=temperature,
                               seed=seed, num_tunes=num_tunes)


def translate(model, text, *, beam_size=1, attention=False):
    """A translation (greedy, or beam search for beam_size > 1), as a `Translation`.

        zoo.translate("translate_transformer", "Tuesday, December 1, 2026").text
        zoo.translate("translate_lstm_attention", "seven hundred and twelve", attention=True).attention
    """
    from zoo.inference import loading, translate as translating

    return translating.translate(loading.resolve(model), text, beam_size=beam_size, attention=attention)


def attention(model, text, *, block=1):
    """A transformer block's attention weights over `text`, as an `Attention` (heads, tokens, tokens).

        zoo.attention("music_transformer", "X:1\\nK:D\\n|:dAFA dAFA|").weights.shape
    """
    from zoo.inference import attention as attending, loading

    return attending.attention(loading.resolve(model), text, block=block)


def features(model, image, *, units=8, top=8):
    """A CNN's filters, its feature maps for `image`, and the test images each last-layer channel likes.

        maps = zoo.features("digits_cnn", "docs/digit_5.csv").maps
    """
    from zoo.inference import features as featuring, loading

    return featuring.features(loading.resolve(model), image, units=units, top=top)


def compare(recipe, key, values, *, fixed=None, workdir=None, verbose=False) -> dict:
    """Trains the recipe once per value of one key and returns the comparison (rows, table, plot path).

        result = zoo.compare("digits_mlp", "optimizer", ["sgd", "adam"], fixed={"epochs": 5})
        result["rows"]

    Finished runs are reused, so a rerun only trains what is missing; see lab/compare.py.
    """
    from zoo.lab import compare as comparing

    return comparing.compare(_recipe(recipe), key, list(values), fixed=fixed, workdir=workdir, verbose=verbose,
                             log=lambda message: None)


def tune(recipe, *, search="random", trials=10, fixed=None, **options) -> dict:
    """A keras-tuner search over the recipe's SEARCH_SPACE; returns the summary with the best trial.

        best = zoo.tune("digits_mlp", trials=4, fixed={"epochs": 5}, quiet=True)["best_values"]
    """
    from zoo.lab import tune as tuning

    return tuning.tune(_recipe(recipe), search=search, trials=trials, fixed=fixed, **options)


def ship(name, overrides=(), *, seeds=(0, 1, 2), card_only=False, **options) -> dict:
    """Trains each seed, ships the best to pretrained/NAME with its card, and returns the card.

    card_only=True trains nothing: it rewrites the shipped card from pretrained/NAME's own files
    (a music model's card gains its tune report) and keeps the weights, config and curves.
    """
    from zoo.hub import ship as shipping
    from zoo.inference import tune_report

    if card_only:
        return shipping.refresh_card(name, tune_report.card_sections, **options)
    return shipping.ship(name, overrides, seeds, **{"sections": tune_report.card_sections, **options})


def export(model, out, *, format="savedmodel"):
    """Writes the model for serving into the folder `out` (OUT/savedmodel, or OUT/model.tflite).

        path, how = zoo.export("digits_mlp", "exports/digits_mlp", format="tflite")

    Returns the path written and how it was converted; nothing already there is replaced.
    """
    from zoo.inference import export as exporting, loading

    return exporting.export(loading.resolve(model), out, format=format)


_PACKAGES = ("engine", "hub", "inference", "lab", "page", "commands")


def submodules_on_first_use(package: str):
    """A module `__getattr__` for `package` that imports `package.NAME` when it is first asked for.

    Each subpackage of zoo uses it, so `zoo.hub.pretrained` works after a plain `import zoo`
    without importing every module (and TensorFlow) up front.
    """

    def __getattr__(name):
        try:
            return importlib.import_module(f"{package}.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"{package}.{name}":
                raise  # The module exists but imports something missing: that is its own error.
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None

    return __getattr__


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    if name in _PACKAGES:  # zoo.hub.pretrained, zoo.engine.runs, ... after a plain `import zoo`.
        return importlib.import_module(f"zoo.{name}")
    raise AttributeError(f"module 'zoo' has no attribute {name!r}")


# In a notebook, TensorFlow loads now, its start-up lines dropped, so that neither
# zoo's functions nor `import tensorflow` or `import layers` in a later cell print them.
native_logs.load_tensorflow_quietly()
