"""A vanilla recurrent cell (lecture 2), written from scratch, with optional
per-step gradient clipping and hidden-state clipping."""

import keras
from keras import ops

from layers import _checks

ACTIVATIONS = {
    "tanh": ops.tanh,
    "relu": ops.relu,
    "sigmoid": ops.sigmoid,
    "linear": lambda x: x,
}


def clip_gradient(x, clip_value):
    """Identity in the forward pass; clips the gradient to [-clip_value, clip_value]
    element-wise in the backward pass.

    Built on `keras.ops.custom_gradient`. With the TensorFlow backend that is
    `tf.custom_gradient`, whose gradient function receives the upstream
    gradient positionally; the `upstream=` keyword form is what the torch
    backend passes, so this signature serves both.
    """

    @ops.custom_gradient
    def identity_with_clipped_gradient(value):
        def gradient(*args, upstream=None):
            if upstream is None:
                (upstream,) = args
            return ops.clip(upstream, -clip_value, clip_value)

        return ops.copy(value), gradient

    return identity_with_clipped_gradient(x)


@keras.saving.register_keras_serializable(package="zoo")
class RNNCell(keras.layers.Layer):
    """Vanilla recurrent cell: `h_t = activation(x_t @ W_xh + h_{t-1} @ W_hh + b)`.

    The cell processes one time step. Wrap it in `keras.layers.RNN` to run it
    over a sequence; the same weights are used at every step, and the hidden
    state `h_t` carries what the network remembers of the past. The output of
    a step is its new hidden state.

    Weights: `kernel` (`W_xh`, shape `(input_dim, units)`), `recurrent_kernel`
    (`W_hh`, shape `(units, units)`) and `bias` (shape `(units,)`), in the
    same order and shapes as `keras.layers.SimpleRNNCell`, so
    `set_weights(simple_rnn.get_weights())` carries weights across.

    Backpropagation through time multiplies the gradient by `W_hh` (and the
    activation's derivative) once per step, so over long sequences it can
    explode or vanish. Two optional guards:

    - `gradient_clip=c` clips, element-wise to `[-c, c]`, the gradient that
      flows back from step `t` into the previous hidden state `h_{t-1}`. It
      acts at every step of backpropagation through time, unlike clipping the
      final gradients of the weights. The forward pass is unchanged. It is an
      identity whose backward pass clips, built with
      `keras.ops.custom_gradient` (see `clip_gradient`). Gradients that reach
      `h_{t-1}` directly from a loss on the output of step `t-1` are not
      clipped; only the recurrent path is.
    - `state_clip=s` bounds the hidden state itself to `[-s, s]` in the
      forward pass (its gradient is zero where the bound is active).

    Args:
        units: Positive integer, size of the hidden state.
        activation: One of `"tanh"`, `"relu"`, `"sigmoid"`, `"linear"` (or
            `None`). Default: `"tanh"`.
        use_bias: Boolean, whether to add a bias vector. Default: `True`.
        kernel_initializer: Initializer for `kernel`.
            Default: `"glorot_uniform"`.
        recurrent_initializer: Initializer for `recurrent_kernel`.
            Default: `"orthogonal"`.
        bias_initializer: Initializer for `bias`. Default: `"zeros"`.
        gradient_clip: None (off) or a positive number `c`: clip the gradient
            reaching the previous hidden state to `[-c, c]` at each step.
            Default: `None`.
        state_clip: None (off) or a positive number `s`: clip the hidden
            state to `[-s, s]`. Default: `None`.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: Tensor of shape `(batch, input_dim)`, the input at one step.
        states: List holding one tensor of shape `(batch, units)`, the
            previous hidden state.
        training: Unused; accepted for `keras.layers.RNN`.

    Returns:
        A tuple `(output, [new_state])`, both of shape `(batch, units)` and
        equal.

    Example:

    ```python
    cell = RNNCell(16, gradient_clip=1.0)
    rnn = keras.layers.RNN(cell, return_sequences=True, return_state=True)
    sequence_outputs, final_state = rnn(np.zeros((2, 10, 8)))
    # sequence_outputs: (2, 10, 16); final_state: (2, 16)
    ```
    """

    def __init__(
        self,
        units,
        activation="tanh",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        gradient_clip=None,
        state_clip=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        name = type(self).__name__
        _checks.check_positive_integers(name, [("units", units, False)])
        self.units = int(units)
        if activation is None:
            activation = "linear"
        self.activation = _checks.check_choice(name, "activation", activation, ACTIVATIONS)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.recurrent_initializer = keras.initializers.get(recurrent_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.gradient_clip = _checks.check_positive_or_none(name, "gradient_clip", gradient_clip)
        self.state_clip = _checks.check_positive_or_none(name, "state_clip", state_clip)
        self.state_size = self.units
        self.output_size = self.units

    def build(self, input_shape):
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError(
                f"RNNCell: the last axis of the input must be known to build "
                f"the kernel; received input shape {input_shape}."
            )
        self.kernel = self.add_weight(
            name="kernel",
            shape=(input_dim, self.units),
            initializer=self.kernel_initializer,
        )
        self.recurrent_kernel = self.add_weight(
            name="recurrent_kernel",
            shape=(self.units, self.units),
            initializer=self.recurrent_initializer,
        )
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=(self.units,),
                initializer=self.bias_initializer,
            )
        else:
            self.bias = None

    def call(self, inputs, states, training=None):
        previous_state = states[0] if isinstance(states, (list, tuple)) else states
        if self.gradient_clip is not None:
            previous_state = clip_gradient(previous_state, self.gradient_clip)
        # (batch, input_dim) @ (input_dim, units) + (batch, units) @ (units, units)
        pre_activation = ops.add(
            ops.matmul(inputs, self.kernel),
            ops.matmul(previous_state, self.recurrent_kernel),
        )
        if self.bias is not None:
            pre_activation = ops.add(pre_activation, self.bias)
        state = ACTIVATIONS[self.activation](pre_activation)
        if self.state_clip is not None:
            state = ops.clip(state, -self.state_clip, self.state_clip)
        return state, [state]

    def get_initial_state(self, batch_size=None):
        return [ops.zeros((batch_size, self.units), dtype=self.compute_dtype)]

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
                "recurrent_initializer": keras.initializers.serialize(
                    self.recurrent_initializer
                ),
                "bias_initializer": keras.initializers.serialize(
                    self.bias_initializer
                ),
                "gradient_clip": self.gradient_clip,
                "state_clip": self.state_clip,
            }
        )
        return config
