"""What every recipe shares: the common config keys and a few per-example metrics.

A file whose name starts with `_` is not a recipe, so the registry skips this one.
A recipe's `Config` subclasses `TrainConfig`, which gives it the keys the trainer
reads (seed, epochs, max_steps, batch_size, optimizer, learning_rate,
grad_clip_norm, dataset, ...) and checks their values and types on construction.
"""

import dataclasses
import math
import typing





class InputError(ValueError):
    """Bad input to a recipe's inference hook (a prompt, a text, an input file).

    The zoo's command line shows it as one line and exit code 2 (see zoo/errors.py).
    A bad config value is a plain ValueError here, which `zoo.make_config` reports.
    """


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Keys every recipe accepts. Recipes subclass this and add their own."""

    seed: int = 0  # Seeds weights, dropout and data order. Same seed, same run.
    epochs: int = 10  # Passes over the training split.
    max_steps: int = 0  # Stop after this many optimizer steps (0: no limit).
    batch_size: int = 32  # Examples per optimizer step (summed over devices).
    optimizer: typing.Literal[
        "sgd", "momentum", "adam", "adagrad", "adadelta", "rmsprop"
    ] = "adam"
    learning_rate: float = 1e-3  # Peak learning rate.
    lr_schedule: typing.Literal["constant", "cosine", "exponential"] = "constant"
    grad_clip_norm: float = 0.0  # Clip gradients to this global norm (0: off).
    patience: int = 0  # Early stopping: epochs without improvement (0: off).
    skip_nonfinite: bool = False  # Skip NaN/Inf steps instead of stopping.
    checkpoint_every: int = 0  # Also checkpoint every N steps (0: off).
    # At an epoch's end, checkpoint once this many seconds have passed since the
    # last checkpoint (0: every epoch). The last epoch is always checkpointed.
    checkpoint_seconds: float = 30.0
    precision: typing.Literal["float32", "mixed_float16", "mixed_bfloat16"] = (
        "float32"
    )
    # Optimizer steps per compiled call: the host is visited once per call. It
    # changes the speed, never the results, and a resume may change it.
    steps_per_call: int = 32
    jit_compile: bool = False  # Compile each step's forward and backward pass with XLA.
    dataset: str = ""  # Which data to train on; each recipe lists its choices.

    def __post_init__(self):
        check_types(self)
        require(self, "seed", 0 <= self.seed < 2**31, "must be in [0, 2**31)")
        require(self, "epochs", self.epochs >= 1, "must be >= 1")
        require(self, "max_steps", self.max_steps >= 0, "must be >= 0 (0: no limit)")
        require(self, "batch_size", self.batch_size >= 1, "must be >= 1")
        require(self, "batch_size", self.batch_size <= 2**24, "must be <= 2**24, a batch far beyond this machine's memory")
        require(
            self,
            "learning_rate",
            math.isfinite(self.learning_rate) and self.learning_rate > 0,
            "must be a finite number > 0",
        )
        require(
            self,
            "grad_clip_norm",
            math.isfinite(self.grad_clip_norm) and self.grad_clip_norm >= 0,
            "must be >= 0 (0: off)",
        )
        require(self, "patience", self.patience >= 0, "must be >= 0 (0: off)")
        require(self, "checkpoint_every", self.checkpoint_every >= 0, "must be >= 0")
        require(self, "steps_per_call", self.steps_per_call >= 1, "must be >= 1")
        require(
            self,
            "checkpoint_seconds",
            math.isfinite(self.checkpoint_seconds) and self.checkpoint_seconds >= 0,
            "must be >= 0 (0: every epoch)",
        )


def require(config, key: str, condition: bool, expectation: str) -> None:
    """Raises a ValueError naming `key` and its value unless `condition` holds."""
    if not condition:
        raise ValueError(
            f"{key}={getattr(config, key)!r} is out of range: {key} {expectation}."
        )


def check_types(config) -> None:
    """Checks every field against its annotation, including Literal choices."""
    hints = typing.get_type_hints(type(config))
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        annotation = hints[field.name]
        if typing.get_origin(annotation) is typing.Literal:
            choices = typing.get_args(annotation)
            if value not in choices:
                raise ValueError(
                    f"{field.name}={value!r} is not one of: "
                    f"{', '.join(map(str, choices))}."
                )
            continue
        # bool is a subclass of int, and an int is a fine float.
        ok = (
            isinstance(value, annotation)
            and not (annotation is int and isinstance(value, bool))
        ) or (annotation is float and isinstance(value, int) and not isinstance(value, bool))
        if not ok:
            raise ValueError(
                f"{field.name}={value!r} has the wrong type: expected "
                f"{annotation.__name__}."
            )


# Per-example metrics. Each takes (targets, model outputs) and returns one value
# per example (or per time step); the trainer averages them over the split.
# They import Keras inside, so that reading a recipe's Config (`zoo list`, a
# typo in a key=value) does not load TensorFlow.


def accuracy(targets, logits):
    """Share of examples whose highest logit is the target class."""
    from keras import ops
    predicted = ops.argmax(logits, axis=-1)
    return ops.cast(ops.equal(predicted, ops.cast(targets, predicted.dtype)), "float32")


def binary_accuracy(targets, logits):
    """Share of examples on the right side of logit 0 (probability 0.5)."""
    from keras import ops
    predicted = ops.cast(ops.greater(logits, 0.0), "float32")
    targets = ops.reshape(ops.cast(targets, "float32"), ops.shape(predicted))
    return ops.cast(ops.equal(predicted, targets), "float32")


def bits_per_char(targets, logits):
    """Next-character cross-entropy in bits (nats / ln 2)."""
    import keras
    nats = keras.losses.sparse_categorical_crossentropy(targets, logits, from_logits=True)
    return nats / math.log(2.0)


def sparse_crossentropy(targets, logits):
    """Per-example softmax cross-entropy, from logits, in nats."""
    import keras
    return keras.losses.sparse_categorical_crossentropy(targets, logits, from_logits=True)


def binary_crossentropy(targets, logits):
    """Per-example sigmoid cross-entropy, from a single logit, in nats."""
    import keras
    from keras import ops
    targets = ops.reshape(ops.cast(targets, "float32"), ops.shape(logits))
    return keras.losses.binary_crossentropy(targets, logits, from_logits=True)



def width_crossentropy(targets, logits):
    """Sigmoid cross-entropy for one logit, softmax cross-entropy for several."""
    if logits.shape[-1] == 1:
        return binary_crossentropy(targets, logits)
    return sparse_crossentropy(targets, logits)


def width_accuracy(targets, logits):
    """Binary accuracy for one logit, argmax accuracy for several."""
    if logits.shape[-1] == 1:
        return binary_accuracy(targets, logits)
    return accuracy(targets, logits)

def mean_absolute_error(targets, outputs):
    """Per-example |target - output|."""
    from keras import ops
    targets = ops.reshape(ops.cast(targets, "float32"), ops.shape(outputs))
    return ops.abs(targets - outputs)


def mean_squared_error(targets, outputs):
    """Per-example (target - output)^2."""
    from keras import ops
    targets = ops.reshape(ops.cast(targets, "float32"), ops.shape(outputs))
    return ops.square(targets - outputs)


# The widest layer a recipe may ask for: a 16384 x 16384 float32 kernel is 1 GiB, four
# with Adam's slots and its gradient. Wider ones would not fit this machine's memory,
# and would end in the kernel's OOM killer rather than in a message.
MAX_WIDTH = 2**14


def check_widths(config, *keys) -> None:
    """Each key (a layer's width) must be in [1, MAX_WIDTH]."""
    for key in keys:
        require(config, key, 1 <= getattr(config, key) <= MAX_WIDTH, f"must be in [1, {MAX_WIDTH}]")


def check_mlp(config) -> None:
    """Range checks for the MLP keys (hidden_units, depth, dropout)."""
    check_widths(config, "hidden_units")
    require(config, "depth", config.depth >= 0, "must be >= 0")
    require(config, "dropout", 0.0 <= config.dropout < 1.0, "must be in [0, 1)")
