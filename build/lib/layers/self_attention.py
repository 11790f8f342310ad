"""Multi-head scaled dot-product self-attention, with a KV cache for generation."""

import math
import numbers

import keras
from keras import ops

from layers import _checks

# Replaces the logits of masked positions before the softmax (which runs in at
# least float32). Matches keras.layers.Softmax, so masked results agree exactly.
_MASKED_LOGIT = -1e9




def _fresh_copy(initializer):
    """A new instance of `initializer` with its own seed.

    An unseeded Keras initializer draws its seed once, when it is made, so
    one instance used for several weights would give them identical values.
    """
    return initializer.__class__.from_config(initializer.get_config())


def _initializer_as_matrix(initializer, shape, matrix_shape):
    """Wraps `initializer` so it draws a `matrix_shape` matrix, then reshapes.

    A projection kernel stored as `(d_model, heads, key_dim)` is, as far as
    the math goes, a `(d_model, heads * key_dim)` matrix. Keras's fan-in/out
    rules read a rank-3 shape as a convolution kernel, which would give
    Glorot a far too small scale; drawing the matrix gives the right one.
    """
    initializer = _fresh_copy(initializer)

    def initialize(shape_argument=None, dtype=None, **kwargs):
        matrix = initializer(matrix_shape, dtype=dtype)
        # (d_model, heads * head_dim) -> (d_model, heads, head_dim), or
        # (heads * value_dim, output_dim) -> (heads, value_dim, output_dim)
        return ops.reshape(matrix, shape)

    return initialize


@keras.saving.register_keras_serializable(package="zoo")
class SelfAttention(keras.layers.Layer):
    """Multi-head self-attention: every token looks at every (allowed) token.

    For each head `h`, each token is projected to a query, a key and a value;
    a token's output is the average of all values, weighted by how well its
    query matches each key:

        Q_h = X W_q[h],  K_h = X W_k[h],  V_h = X W_v[h]
        head_h = softmax(Q_h K_h^T / sqrt(key_dim) + mask) V_h
        outputs = sum_h head_h W_o[h]

    Weights are stored in the shapes `keras.layers.MultiHeadAttention` uses,
    so its weights can be copied across one for one (in this order):
    `query_kernel (d_model, heads, key_dim)`, `query_bias (heads, key_dim)`,
    `key_kernel`, `key_bias` (the same shapes), `value_kernel
    (d_model, heads, value_dim)`, `value_bias (heads, value_dim)`,
    `output_kernel (heads, value_dim, output_dim)`, `output_bias
    (output_dim,)`. With `use_bias=False` the biases are absent.

    The logits and the softmax are computed in (at least) float32 even under
    a mixed precision policy, then cast back to the compute dtype.

    **Cached generation.** Generating token by token with the plain call
    recomputes keys and values of the whole window for every new token. With
    a key/value cache the layer instead computes them only for the new
    tokens, writes them into fixed-size buffers at `cache_index`, and lets
    each new token attend to the positions up to its own. All shapes stay
    fixed, so
    a `tf.function` around a one-token step traces once:

    ```python
    cache = layer.init_cache(batch_size, max_length)
    outputs, cache = layer(prompt, cache=cache, cache_index=0)  # prefill
    for index in range(prompt_length, max_length):
        outputs, cache = layer(new_token_vectors, cache=cache,
                               cache_index=index)
    ```

    Args:
        num_heads: Positive integer, the number of attention heads.
        key_dim: Positive integer, the size of each head's queries and keys.
        value_dim: Positive integer, the size of each head's values.
            Default: `None`, meaning `key_dim`.
        dropout: Float in `[0, 1)`, dropout rate on the attention
            probabilities during training. Default: `0.0`.
        use_bias: Boolean, whether the four projections have biases.
            Default: `True`.
        output_dim: Positive integer, the size of the output vectors.
            Default: `None`, meaning the input size (`d_model`).
        kernel_initializer: Initializer of the four kernels, applied to each
            kernel seen as a matrix (e.g. `(d_model, heads * key_dim)`).
            Default: `"glorot_uniform"`.
        bias_initializer: Initializer of the biases. Default: `"zeros"`.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: Tensor of shape `(batch, time, d_model)`.
        padding_mask: Optional boolean (or 0/1) tensor of shape
            `(batch, time)`, `True` for real tokens. Padded tokens are never
            attended to, and their own rows of attention probabilities are
            all zero (as in `keras.layers.MultiHeadAttention`). When `None`,
            the Keras mask of `inputs` is used (e.g. from
            `PositionalEmbedding(mask_zero=True)`). Not allowed with `cache`.
        use_causal_mask: Boolean. If `True`, token `t` attends only to tokens
            `<= t` (for language models). Default: `False`.
        return_attention_scores: Boolean. If `True`, also return the
            attention probabilities. Default: `False`.
        training: Boolean, whether dropout is active. Default: `None` (the
            Keras learning phase).
        cache: Optional pair `(key_cache, value_cache)` of tensors of shapes
            `(batch, heads, max_length, key_dim)` and
            `(batch, heads, max_length, value_dim)`, as made by
            `init_cache`. When given, `inputs` are the new tokens only, which
            sit at positions `cache_index ... cache_index + time - 1`;
            attention is always causal.
        cache_index: Python int or scalar integer tensor, the position of the
            first token of `inputs`. Required with `cache`.
        mask: The Keras mask of `inputs`, filled in by Keras. Use
            `padding_mask` to pass a mask yourself; it takes precedence.
            Ignored with `cache`.

    Returns:
        Without `cache`: `outputs` of shape `(batch, time, output_dim)` or,
        with `return_attention_scores=True`, `(outputs, attention_scores)`
        where `attention_scores` has shape `(batch, heads, time, time)`.
        With `cache`: `(outputs, cache)` or `(outputs, attention_scores,
        cache)`, where the scores have shape
        `(batch, heads, time, max_length)` and `cache` is the updated pair.

    Example:

    ```python
    attention = SelfAttention(num_heads=4, key_dim=16)
    outputs = attention(np.zeros((2, 10, 64)), use_causal_mask=True)  # (2, 10, 64)
    ```
    """

    def __init__(
        self,
        num_heads,
        key_dim,
        value_dim=None,
        dropout=0.0,
        use_bias=True,
        output_dim=None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        _checks.check_positive_integers(
            "SelfAttention",
            (
                ("num_heads", num_heads, False),
                ("key_dim", key_dim, False),
                ("value_dim", value_dim, True),
                ("output_dim", output_dim, True),
            ),
        )
        _checks.check_dropout("SelfAttention", dropout)
        self.num_heads = int(num_heads)
        self.key_dim = int(key_dim)
        self.value_dim = None if value_dim is None else int(value_dim)
        self.dropout = float(dropout)
        self.use_bias = bool(use_bias)
        self.output_dim = None if output_dim is None else int(output_dim)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.supports_masking = True
        self.probabilities_dropout = keras.layers.Dropout(
            self.dropout, dtype=self.dtype_policy, name="probabilities_dropout"
        )

    @property
    def _value_size(self):
        return self.key_dim if self.value_dim is None else self.value_dim

    def build(self, input_shape):
        model_dim = input_shape[-1]
        if model_dim is None:
            raise ValueError(
                f"SelfAttention: the last axis of the input (d_model) must be "
                f"known to build the projections; received input shape "
                f"{input_shape}."
            )
        self._build_projections(model_dim, model_dim, model_dim)

    def _build_projections(self, query_input_dim, key_input_dim, value_input_dim):
        """Adds the four projections; the output defaults to the query's size.

        Shared with `CrossAttention`, whose queries, keys and values may come
        from vectors of different sizes.
        """
        self._output_size = (
            query_input_dim if self.output_dim is None else self.output_dim
        )
        heads, key_dim, value_dim = (
            self.num_heads,
            self.key_dim,
            self._value_size,
        )

        def add_projection(name, kernel_shape, matrix_shape, bias_shape):
            kernel = self.add_weight(
                name=f"{name}_kernel",
                shape=kernel_shape,
                initializer=_initializer_as_matrix(
                    self.kernel_initializer, kernel_shape, matrix_shape
                ),
            )
            bias = None
            if self.use_bias:
                bias = self.add_weight(
                    name=f"{name}_bias",
                    shape=bias_shape,
                    initializer=_fresh_copy(self.bias_initializer),
                )
            return kernel, bias

        self.query_kernel, self.query_bias = add_projection(
            "query",
            (query_input_dim, heads, key_dim),
            (query_input_dim, heads * key_dim),
            (heads, key_dim),
        )
        self.key_kernel, self.key_bias = add_projection(
            "key",
            (key_input_dim, heads, key_dim),
            (key_input_dim, heads * key_dim),
            (heads, key_dim),
        )
        self.value_kernel, self.value_bias = add_projection(
            "value",
            (value_input_dim, heads, value_dim),
            (value_input_dim, heads * value_dim),
            (heads, value_dim),
        )
        self.output_kernel, self.output_bias = add_projection(
            "output",
            (heads, value_dim, self._output_size),
            (heads * value_dim, self._output_size),
            (self._output_size,),
        )
        self.probabilities_dropout.build(None)

    def init_cache(self, batch_size, max_length, dtype=None):
        """Returns an empty `(key_cache, value_cache)` pair for `call(cache=)`.

        Args:
            batch_size: Python int, the batch size of the generation.
            max_length: Python int, the most positions the cache holds.
            dtype: The cache dtype. Default: the layer's compute dtype.

        Returns:
            A tuple of zero tensors of shapes
            `(batch_size, heads, max_length, key_dim)` and
            `(batch_size, heads, max_length, value_dim)`.
        """
        dtype = self.compute_dtype if dtype is None else dtype
        key_cache = ops.zeros(
            (batch_size, self.num_heads, max_length, self.key_dim), dtype
        )
        value_cache = ops.zeros(
            (batch_size, self.num_heads, max_length, self._value_size), dtype
        )
        return key_cache, value_cache

    def _project_heads(self, inputs, kernel, bias):
        """(batch, time, d_model) -> (batch, heads, time, head_dim)."""
        # Weights in the compute dtype: under a mixed policy `__call__` casts
        # them already, and `compute_output_spec` must agree with it.
        projected = ops.einsum(
            "btd,dnh->btnh", inputs, ops.cast(kernel, self.compute_dtype)
        )  # (batch, time, heads, head_dim)
        if bias is not None:
            projected = projected + ops.cast(bias, self.compute_dtype)
        return ops.transpose(
            projected, (0, 2, 1, 3)
        )  # (batch, heads, time, head_dim)

    def call(
        self,
        inputs,
        padding_mask=None,
        use_causal_mask=False,
        return_attention_scores=False,
        training=None,
        cache=None,
        cache_index=None,
        mask=None,
    ):
        query = self._project_heads(inputs, self.query_kernel, self.query_bias)
        key = self._project_heads(inputs, self.key_kernel, self.key_bias)
        value = self._project_heads(inputs, self.value_kernel, self.value_bias)

        if cache is None:
            if padding_mask is None:
                padding_mask = mask
            attention_mask = self._attention_mask(
                padding_mask, use_causal_mask, query_length=ops.shape(inputs)[1]
            )
        else:
            cache_index = self._check_cache_arguments(
                key, padding_mask, cache, cache_index
            )
            key, value, cache = self._update_cache(
                key, value, cache, cache_index
            )
            attention_mask = self._cached_attention_mask(
                cache_index,
                query_length=ops.shape(inputs)[1],
                cache_length=ops.shape(key)[2],
            )

        outputs, probabilities = self._attend(
            query,
            key,
            value,
            attention_mask,
            zero_masked_rows=padding_mask is not None and cache is None,
            training=training,
        )
        results = (outputs,)
        if return_attention_scores:
            results += (probabilities,)
        if cache is not None:
            results += (cache,)
        return results[0] if len(results) == 1 else results

    def _attend(self, query, key, value, attention_mask, zero_masked_rows, training):
        """The attention maths, shared with `CrossAttention`.

        Args:
            query: `(batch, heads, query_time, key_dim)` projected queries.
            key: `(batch, heads, key_time, key_dim)` projected keys.
            value: `(batch, heads, key_time, value_dim)` projected values.
            attention_mask: boolean, broadcastable to
                `(batch, heads, query_time, key_time)`, or None.
            zero_masked_rows: whether masked probabilities are set to zero
                after the softmax (a fully masked row, a padded query, would
                otherwise be uniform).
            training: whether dropout is active.

        Returns:
            `(outputs (batch, query_time, output_dim), probabilities
            (batch, heads, query_time, key_time))`.
        """
        # Scale the queries rather than the (time x time) logits: fewer
        # multiplications, same result.
        query = query * ops.cast(1.0 / math.sqrt(self.key_dim), query.dtype)
        logits = ops.einsum(
            "bnqh,bnkh->bnqk", query, key
        )  # (batch, heads, query_time, key_time)
        # At least float32 for the softmax, whatever the compute dtype.
        softmax_dtype = keras.backend.result_type(logits.dtype, "float32")
        logits = ops.cast(logits, softmax_dtype)
        if attention_mask is not None:
            logits = ops.where(attention_mask, logits, _MASKED_LOGIT)
        probabilities = ops.softmax(logits, axis=-1)
        if zero_masked_rows and attention_mask is not None:
            probabilities = ops.where(attention_mask, probabilities, 0.0)
        probabilities = ops.cast(probabilities, self.compute_dtype)

        dropped_probabilities = self.probabilities_dropout(
            probabilities, training=training
        )
        heads = ops.einsum(
            "bnqk,bnkh->bnqh", dropped_probabilities, value
        )  # (batch, heads, query_time, value_dim)
        outputs = ops.einsum(
            "bnqh,nho->bqo", heads, ops.cast(self.output_kernel, self.compute_dtype)
        )  # (batch, query_time, output_dim)
        if self.output_bias is not None:
            outputs = outputs + ops.cast(self.output_bias, self.compute_dtype)
        return outputs, probabilities

    def _attention_mask(self, padding_mask, use_causal_mask, query_length):
        """Boolean mask broadcastable to (batch, heads, time, time), or None."""
        attention_mask = None
        if padding_mask is not None:
            padding_mask = ops.cast(padding_mask, "bool")  # (batch, time)
            query_is_token = ops.expand_dims(
                padding_mask, (1, 3)
            )  # (batch, 1, time, 1)
            key_is_token = ops.expand_dims(
                padding_mask, (1, 2)
            )  # (batch, 1, 1, time)
            attention_mask = ops.logical_and(query_is_token, key_is_token)
        if use_causal_mask:
            positions = ops.arange(query_length)
            causal_mask = ops.greater_equal(
                ops.expand_dims(positions, 1), ops.expand_dims(positions, 0)
            )  # (time, time): query position >= key position
            attention_mask = (
                causal_mask
                if attention_mask is None
                else ops.logical_and(attention_mask, causal_mask)
            )
        return attention_mask

    def _cached_attention_mask(self, cache_index, query_length, cache_length):
        """(query_time, max_length) mask: key position <= query position."""
        query_positions = ops.arange(query_length) + cache_index
        key_positions = ops.arange(cache_length)
        return ops.less_equal(
            ops.expand_dims(key_positions, 0),
            ops.expand_dims(query_positions, 1),
        )  # (query_time, max_length)

    def _check_cache_arguments(self, key, padding_mask, cache, cache_index):
        """Raises ValueError on a bad cache; returns cache_index as int/int32."""
        if padding_mask is not None:
            raise ValueError(
                "SelfAttention: `padding_mask` cannot be combined with "
                "`cache`. The cache holds exactly the tokens fed so far, so "
                "feed the prompt unpadded (one sequence, or prompts of equal "
                "length)."
            )
        if cache_index is None:
            raise ValueError(
                "SelfAttention: `cache` was given without `cache_index`. "
                "Pass cache_index=<position of the first new token> (an int "
                "or a scalar integer tensor)."
            )
        if not isinstance(cache, (tuple, list)) or len(cache) != 2:
            raise ValueError(
                f"SelfAttention: `cache` must be a pair (key_cache, "
                f"value_cache) as made by `init_cache`; received "
                f"{type(cache).__name__}."
            )
        key_cache, value_cache = cache
        expected = {
            "key_cache": (key_cache, self.key_dim),
            "value_cache": (value_cache, self._value_size),
        }
        for cache_name, (buffer, head_dim) in expected.items():
            shape = tuple(buffer.shape)
            if (
                len(shape) != 4
                or shape[1] != self.num_heads
                or shape[3] != head_dim
            ):
                raise ValueError(
                    f"SelfAttention: {cache_name} has shape {shape}; expected "
                    f"(batch, {self.num_heads}, max_length, {head_dim}). "
                    f"Make the cache with `layer.init_cache(batch_size, "
                    f"max_length)`."
                )
        new_length = key.shape[2]
        max_length = key_cache.shape[2]
        if (
            isinstance(cache_index, numbers.Integral)
            and new_length is not None
            and max_length is not None
            and not 0 <= cache_index <= max_length - new_length
        ):
            raise ValueError(
                f"SelfAttention: cannot write {new_length} new token(s) at "
                f"cache_index={cache_index} into a cache of max_length "
                f"{max_length}. Keep cache_index + time <= max_length."
            )
        if isinstance(cache_index, numbers.Integral):
            return int(cache_index)
        return ops.cast(cache_index, "int32")

    def _update_cache(self, key, value, cache, cache_index):
        """Writes the new keys/values at `cache_index`; returns the buffers."""
        key_cache, value_cache = cache
        start = (0, 0, cache_index, 0)
        key_cache = ops.slice_update(
            key_cache, start, ops.cast(key, key_cache.dtype)
        )  # (batch, heads, max_length, key_dim)
        value_cache = ops.slice_update(
            value_cache, start, ops.cast(value, value_cache.dtype)
        )  # (batch, heads, max_length, value_dim)
        key = ops.cast(key_cache, key.dtype)
        value = ops.cast(value_cache, value.dtype)
        return key, value, (key_cache, value_cache)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_heads": self.num_heads,
                "key_dim": self.key_dim,
                "value_dim": self.value_dim,
                "dropout": self.dropout,
                "use_bias": self.use_bias,
                "output_dim": self.output_dim,
                "kernel_initializer": keras.initializers.serialize(
                    self.kernel_initializer
                ),
                "bias_initializer": keras.initializers.serialize(
                    self.bias_initializer
                ),
            }
        )
        return config
