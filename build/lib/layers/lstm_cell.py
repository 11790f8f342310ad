"""A long short-term memory cell (lecture 2), written from scratch."""

import keras
from keras import ops

from layers import _checks
from layers import rnn_cell

# Activations of the candidate and of the cell state: the same as RNNCell's.
ACTIVATIONS = rnn_cell.ACTIVATIONS

RECURRENT_ACTIVATIONS = {
    "sigmoid": ops.sigmoid,
    "hard_sigmoid": ops.hard_sigmoid,
}


@keras.saving.register_keras_serializable(package="zoo")
class LSTMCell(keras.layers.Layer):
    """Long short-term memory cell: a recurrent cell whose gates decide what
    to forget, what to store, how to update its memory and what to output.

    Besides the hidden state `h`, an LSTM keeps a cell state `c`, its long-term
    memory. At each step, from the input `x_t` and the previous hidden state
    `h_{t-1}`, it computes four vectors, each one a dense layer
    `x_t @ W + h_{t-1} @ U + b`:

    - forget gate `f = sigmoid(...)`, in [0, 1]: **forget** the parts of the
      old cell state that are no longer relevant.
    - input gate `i = sigmoid(...)`, in [0, 1]: decide which new information
      to **store**.
    - candidate `g = tanh(...)`: the new information itself. Together, they
      **update** the cell state: `c_t = f * c_{t-1} + i * g`.
    - output gate `o = sigmoid(...)`, in [0, 1]: **output** a filtered view of
      the cell state: `h_t = o * tanh(c_t)`.

    Because `c_t` is updated by element-wise products and a sum, not by a
    matrix product, the gradient along the cell state is only scaled by the
    forget gate at each step, which lets it travel over long sequences
    without vanishing.

    Weights: `kernel` (shape `(input_dim, 4 * units)`), `recurrent_kernel`
    (shape `(units, 4 * units)`) and `bias` (shape `(4 * units,)`). Their last
    axis holds the gates in keras's order (input, forget, candidate, output),
    so `set_weights(keras_lstm.get_weights())` carries weights across.

    Args:
        units: Positive integer, size of the hidden and cell states.
        activation: Activation of the candidate and of the cell state on its
            way out: `"tanh"`, `"relu"`, `"sigmoid"` or `"linear"` (or `None`).
            Default: `"tanh"`.
        recurrent_activation: Activation of the three gates: `"sigmoid"` or
            `"hard_sigmoid"`. Default: `"sigmoid"`.
        use_bias: Boolean, whether to add a bias vector. Default: `True`.
        kernel_initializer: Initializer for `kernel`.
            Default: `"glorot_uniform"`.
        recurrent_initializer: Initializer for `recurrent_kernel`.
            Default: `"orthogonal"`.
        bias_initializer: Initializer for `bias`. Default: `"zeros"`.
        unit_forget_bias: Boolean. If `True`, the forget gate's bias starts
            at 1 (so the cell remembers by default), and `bias_initializer`
            fills the rest. Default: `True`.
        gradient_clip: None (off) or a positive number `c`: clip, element-wise
            to `[-c, c]`, the gradients flowing back from step `t` into both
            `h_{t-1}` and `c_{t-1}`, at every step; the forward pass is
            unchanged. See `layers.RNNCell`. Default: `None`.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: Tensor of shape `(batch, input_dim)`, the input at one step.
        states: List `[h, c]` of two tensors of shape `(batch, units)`: the
            previous hidden state and cell state.
        training: Unused; accepted for `keras.layers.RNN`.

    Returns:
        A tuple `(output, [new_h, new_c])`; `output` is `new_h`, all of shape
        `(batch, units)`.

    Example:

    ```python
    rnn = keras.layers.RNN(LSTMCell(32), return_state=True)
    output, final_h, final_c = rnn(np.zeros((2, 10, 8)))  # each (2, 32)
    ```
    """

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        unit_forget_bias=True,
        gradient_clip=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        name = type(self).__name__
        _checks.check_positive_integers(name, [("units", units, False)])
        self.units = int(units)
        if activation is None:
            activation = "linear"
        self.activation = _checks.check_choice(name, "activation", activation, ACTIVATIONS)
        self.recurrent_activation = _checks.check_choice(
            name, "recurrent_activation", recurrent_activation, RECURRENT_ACTIVATIONS
        )
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.recurrent_initializer = keras.initializers.get(recurrent_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.gradient_clip = _checks.check_positive_or_none(name, "gradient_clip", gradient_clip)
        self.state_size = [self.units, self.units]
        self.output_size = self.units

    def build(self, input_shape):
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError(
                f"LSTMCell: the last axis of the input must be known to build "
                f"the kernel; received input shape {input_shape}."
            )
        self.kernel = self.add_weight(
            name="kernel",
            shape=(input_dim, 4 * self.units),
            initializer=self.kernel_initializer,
        )
        self.recurrent_kernel = self.add_weight(
            name="recurrent_kernel",
            shape=(self.units, 4 * self.units),
            initializer=self.recurrent_initializer,
        )
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=(4 * self.units,),
                initializer=self._initialize_bias,
            )
        else:
            self.bias = None

    def _initialize_bias(self, shape, dtype=None):
        if not self.unit_forget_bias:
            return self.bias_initializer(shape, dtype=dtype)
        units = self.units
        # Gate blocks along the last axis: (input, forget, candidate, output).
        return ops.concatenate(
            [
                self.bias_initializer((units,), dtype=dtype),
                ops.ones((units,), dtype=dtype),
                self.bias_initializer((2 * units,), dtype=dtype),
            ]
        )

    def call(self, inputs, states, training=None):
        previous_hidden, previous_cell = states[0], states[1]
        if self.gradient_clip is not None:
            clip = self.gradient_clip
            previous_hidden = rnn_cell.clip_gradient(previous_hidden, clip)
            previous_cell = rnn_cell.clip_gradient(previous_cell, clip)
        # (batch, input_dim) @ (input_dim, 4u) + (batch, units) @ (units, 4u)
        gate_inputs = ops.add(
            ops.matmul(inputs, self.kernel),
            ops.matmul(previous_hidden, self.recurrent_kernel),
        )
        if self.bias is not None:
            gate_inputs = ops.add(gate_inputs, self.bias)
        # (batch, 4u) -> four (batch, units) blocks, in keras's gate order.
        input_z, forget_z, candidate_z, output_z = ops.split(gate_inputs, 4, axis=-1)

        gate = RECURRENT_ACTIVATIONS[self.recurrent_activation]
        activation = ACTIVATIONS[self.activation]
        forget_gate = gate(forget_z)  # forget: what to drop from c_{t-1}
        input_gate = gate(input_z)  # store: which new information to keep
        candidate = activation(candidate_z)  # the new information
        cell_state = forget_gate * previous_cell + input_gate * candidate  # update
        output_gate = gate(output_z)  # output: what part of the memory to show
        hidden_state = output_gate * activation(cell_state)
        return hidden_state, [hidden_state, cell_state]

    def get_initial_state(self, batch_size=None):
        return [
            ops.zeros((batch_size, self.units), dtype=self.compute_dtype),
            ops.zeros((batch_size, self.units), dtype=self.compute_dtype),
        ]

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "activation": self.activation,
                "recurrent_activation": self.recurrent_activation,
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
                "unit_forget_bias": self.unit_forget_bias,
                "gradient_clip": self.gradient_clip,
            }
        )
        return config
