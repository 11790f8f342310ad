"""A fully connected layer (the perceptron of lecture 1), written from scratch."""

import keras
from keras import ops

from layers import _checks

# Forward rules of the hard-threshold activations. Both treat 0 as "on".
#   step(x) = 1 if x >= 0 else 0     (Heaviside, the classic perceptron)
#   sign(x) = 1 if x >= 0 else -1
_HARD_ACTIVATIONS = ("step", "sign")

_SMOOTH_ACTIVATIONS = {
    "linear": lambda x: x,
    "sigmoid": ops.sigmoid,
    "tanh": ops.tanh,
    "relu": ops.relu,
    "softmax": lambda x: ops.softmax(x, axis=-1),
}

ACTIVATIONS = tuple(_SMOOTH_ACTIVATIONS) + _HARD_ACTIVATIONS

STRAIGHT_THROUGH_MODES = ("identity", "clipped", None)


def _hard_threshold(x, activation):
    """The forward value of `step` or `sign`, in the dtype of `x`."""
    is_on = ops.cast(ops.greater_equal(x, 0), x.dtype)
    if activation == "step":
        return is_on
    return 2 * is_on - 1


@keras.saving.register_keras_serializable(package="zoo")
class Dense(keras.layers.Layer):
    """Fully connected layer: `output = activation(inputs @ kernel + bias)`.

    Each of the `units` outputs is one perceptron: it multiplies every input by
    a weight, sums the products, adds a bias, and passes the sum through a
    non-linear activation. The layer acts on the last axis of its input, so a
    `(batch, time, features)` input gives a `(batch, time, units)` output.

    Its weights are `kernel` with shape `(input_dim, units)` and `bias` with
    shape `(units,)`, in that order: the same as `keras.layers.Dense`, so
    `layer.set_weights(keras_dense.get_weights())` carries weights across.

    The hard activations `"step"` (0 or 1) and `"sign"` (-1 or +1) have a zero
    derivative almost everywhere, so a network using them could not learn by
    gradient descent. They therefore use a straight-through estimator: the
    forward pass gives the hard threshold, the backward pass uses the gradient
    of a surrogate, written as `surrogate + stop_gradient(hard - surrogate)`.
    `straight_through` picks the surrogate:

    - `"identity"`: the surrogate is `x`, so the gradient passes unchanged.
    - `"clipped"`: the surrogate is `clip(x, -1, 1)`, so the gradient passes
      where `|x| <= 1` and is zero elsewhere (the "hard tanh" estimator).
    - `None`: no estimator; the true derivative, which is zero.

    Args:
        units: Positive integer, number of outputs (perceptrons).
        activation: One of `"linear"` (or `None`), `"sigmoid"`, `"tanh"`,
            `"relu"`, `"softmax"` (over the last axis), `"step"` or `"sign"`.
            Default: `None`.
        use_bias: Boolean, whether to add a bias vector. Default: `True`.
        kernel_initializer: Initializer for `kernel`.
            Default: `"glorot_uniform"`.
        bias_initializer: Initializer for `bias`. Default: `"zeros"`.
        straight_through: Backward rule of `"step"` and `"sign"`: one of
            `"identity"`, `"clipped"` or `None`, as described above. Ignored
            by the other activations. Default: `"identity"`.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: Tensor of rank >= 2 with shape `(..., input_dim)`.

    Returns:
        Tensor of shape `(..., units)`.

    Example:

    ```python
    perceptron = Dense(1, activation="step")
    outputs = perceptron(np.array([[0.0, 1.0], [1.0, 1.0]]))  # (2, 1) of 0/1
    ```
    """

    def __init__(
        self,
        units,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        straight_through="identity",
        **kwargs,
    ):
        super().__init__(**kwargs)
        _checks.check_positive_integers("Dense", [("units", units, False)])
        self.units = int(units)
        self.activation = _checks.check_choice(
            "Dense", "activation", "linear" if activation is None else activation, ACTIVATIONS
        )
        _checks.check_choice("Dense", "straight_through", straight_through, STRAIGHT_THROUGH_MODES)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.straight_through = straight_through
        self.input_spec = keras.InputSpec(min_ndim=2)

    def build(self, input_shape):
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError(
                f"Dense: the last axis of the input must be known to build "
                f"the kernel; received input shape {input_shape}."
            )
        self.kernel = self.add_weight(
            name="kernel",
            shape=(input_dim, self.units),
            initializer=self.kernel_initializer,
        )
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=(self.units,),
                initializer=self.bias_initializer,
            )
        else:
            self.bias = None
        self.input_spec = keras.InputSpec(min_ndim=2, axes={-1: input_dim})

    def call(self, inputs):
        # (..., input_dim) @ (input_dim, units) -> (..., units)
        pre_activation = ops.matmul(inputs, self.kernel)
        if self.bias is not None:
            pre_activation = ops.add(pre_activation, self.bias)
        if self.activation in _SMOOTH_ACTIVATIONS:
            return _SMOOTH_ACTIVATIONS[self.activation](pre_activation)
        return self._hard_activation(pre_activation)

    def _hard_activation(self, x):
        hard = _hard_threshold(x, self.activation)
        if self.straight_through is None:
            return hard
        if self.straight_through == "identity":
            surrogate = x
        else:  # "clipped"
            surrogate = ops.clip(x, -1.0, 1.0)
        # Forward: surrogate + (hard - surrogate) = hard.
        # Backward: the stop_gradient term contributes nothing.
        return surrogate + ops.stop_gradient(hard - surrogate)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "activation": self.activation,
                "use_bias": self.use_bias,
                "kernel_initializer": keras.initializers.serialize(
                    self.kernel_initializer
                ),
                "bias_initializer": keras.initializers.serialize(
                    self.bias_initializer
                ),
                "straight_through": self.straight_through,
            }
        )
        return config
