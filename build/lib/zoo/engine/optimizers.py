"""Optimizers and learning-rate schedules, chosen by name.

The names are the lecture's: plain SGD, SGD with momentum, Adam, Adagrad,
Adadelta and RMSProp. Gradient clipping is not done here: the trainer clips the
all-reduced gradient by global norm itself, so that it sees the same gradient on
one device and on many.
"""

import keras

MOMENTUM = 0.9


def make_schedule(name: str, learning_rate: float, total_steps: int):
    """A constant rate, or a schedule that decays `learning_rate` over `total_steps`."""
    if name == "constant":
        return learning_rate
    steps = max(1, total_steps)
    if name == "cosine":
        return keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=steps)
    if name == "exponential":
        # Ends at a hundredth of the peak rate after `total_steps`.
        return keras.optimizers.schedules.ExponentialDecay(
            learning_rate, decay_steps=steps, decay_rate=0.01
        )
    raise ValueError(f"Unknown lr_schedule {name!r}: use constant, cosine or exponential.")


def make_optimizer(name: str, learning_rate: float, schedule: str = "constant", total_steps: int = 1):
    """Builds the named keras optimizer.

    Args:
        name: sgd, momentum, adam, adagrad, adadelta or rmsprop.
        learning_rate: the peak learning rate.
        schedule: constant, cosine or exponential.
        total_steps: how many steps the schedule spans.

    Returns:
        A `keras.optimizers.Optimizer`.
    """
    rate = make_schedule(schedule, learning_rate, total_steps)
    if name == "sgd":
        return keras.optimizers.SGD(rate)
    if name == "momentum":
        return keras.optimizers.SGD(rate, momentum=MOMENTUM)
    if name == "adam":
        return keras.optimizers.Adam(rate)
    if name == "adagrad":
        return keras.optimizers.Adagrad(rate)
    if name == "adadelta":
        return keras.optimizers.Adadelta(rate)
    if name == "rmsprop":
        return keras.optimizers.RMSprop(rate)
    raise ValueError(
        f"Unknown optimizer {name!r}: use sgd, momentum, adam, adagrad, adadelta or rmsprop."
    )
