"""Multi-head cross-attention: queries from one sequence, keys and values from another."""

import keras
from keras import ops

from layers import self_attention


@keras.saving.register_keras_serializable(package="zoo")
class CrossAttention(self_attention.SelfAttention):
    """Multi-head attention where one sequence reads another.

    The queries come from `query` (e.g. the decoder's tokens), the keys and
    values from `value` (e.g. the encoder's outputs, the source sentence):

        Q_h = X_query W_q[h],  K_h = X_key W_k[h],  V_h = X_value W_v[h]
        head_h = softmax(Q_h K_h^T / sqrt(key_dim) + mask) V_h
        outputs = sum_h head_h W_o[h]

    It is `SelfAttention` with the three inputs told apart: the projections,
    the masked softmax and the output projection are SelfAttention's own
    code (`_build_projections`, `_project_heads`, `_attend`), so the two
    layers cannot drift apart. The weights have the shapes and order of
    `keras.layers.MultiHeadAttention` (`query_kernel (query_dim, heads,
    key_dim)`, `key_kernel (key_input_dim, heads, key_dim)`, `value_kernel
    (value_dim_in, heads, value_dim)`, `output_kernel (heads, value_dim,
    output_dim)` and their biases), so its weights copy across one for one
    and `layer(query, value, key)` equals `MultiHeadAttention(query, value,
    key)`.

    **Decoding with a fixed source.** While a translation is generated token
    by token, the source never changes, so neither do its keys and values.
    `precompute(value, key)` projects them once; `call(query, memory=...)`
    then reuses them for every new token.

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
            Default: `None`, meaning the size of `query`'s last axis.
        kernel_initializer: Initializer of the four kernels, applied to each
            kernel seen as a matrix. Default: `"glorot_uniform"`.
        bias_initializer: Initializer of the biases. Default: `"zeros"`.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        query: Tensor of shape `(batch, query_time, query_dim)`.
        value: Tensor of shape `(batch, key_time, value_input_dim)`. Not
            given with `memory`.
        key: Optional tensor of shape `(batch, key_time, key_input_dim)`.
            Default: `value`.
        query_mask: Optional boolean (or 0/1) tensor `(batch, query_time)`,
            `True` for real query tokens; a padded query's row of attention
            probabilities is all zero. Filled in by Keras from `query`'s
            mask when not given.
        value_mask: Optional boolean (or 0/1) tensor `(batch, key_time)`,
            `True` for real tokens of `value` (and `key`): padded ones are
            never attended to. Filled in by Keras from `value`'s mask when not
            given.
        return_attention_scores: Boolean. If `True`, also return the
            attention probabilities `(batch, heads, query_time, key_time)`.
            Default: `False`.
        training: Boolean, whether dropout is active. Default: `None`.
        memory: Optional `(keys, values)` pair from `precompute`, used
            instead of projecting `value` and `key` again.

    Returns:
        `outputs` of shape `(batch, query_time, output_dim)`, or
        `(outputs, attention_scores)` with `return_attention_scores=True`.

    Example:

    ```python
    attention = CrossAttention(num_heads=4, key_dim=16)
    outputs = attention(decoder_vectors, encoder_outputs,
                        value_mask=source_ids != 0)  # (batch, target_time, d_model)
    ```
    """

    def build(self, query_shape, value_shape=None, key_shape=None):
        if value_shape is None:
            raise ValueError(
                "CrossAttention: building needs the shape of `value` (the "
                "sequence attended over); call the layer once as "
                "layer(query, value) or build(query_shape, value_shape)."
            )
        key_shape = value_shape if key_shape is None else key_shape
        shapes = {"query": query_shape, "key": key_shape, "value": value_shape}
        for name, shape in shapes.items():
            if shape[-1] is None:
                raise ValueError(
                    f"CrossAttention: the last axis of `{name}` must be known to "
                    f"build the projections; received {name} shape {shape}."
                )
        self._build_projections(query_shape[-1], key_shape[-1], value_shape[-1])

    def precompute(self, value, key=None):
        """Projects the attended sequence once: `(keys, values)` for `call(memory=)`.

        Args:
            value: Tensor `(batch, key_time, value_input_dim)`.
            key: Optional tensor `(batch, key_time, key_input_dim)`.
                Default: `value`.

        Returns:
            A pair of tensors `(batch, heads, key_time, key_dim)` and
            `(batch, heads, key_time, value_dim)`.
        """
        if not self.built:
            raise ValueError(
                "CrossAttention: precompute needs a built layer; call it once "
                "as layer(query, value) first."
            )
        key = value if key is None else key
        return (
            self._project_heads(key, self.key_kernel, self.key_bias),
            self._project_heads(value, self.value_kernel, self.value_bias),
        )

    def call(
        self,
        query,
        value=None,
        key=None,
        query_mask=None,
        value_mask=None,
        return_attention_scores=False,
        training=None,
        memory=None,
    ):
        if (memory is None) == (value is None):
            raise ValueError(
                "CrossAttention: pass either `value` (and optionally `key`) or "
                "`memory` from `precompute`, not both and not neither."
            )
        projected_query = self._project_heads(
            query, self.query_kernel, self.query_bias
        )  # (batch, heads, query_time, key_dim)
        if memory is None:
            projected_key, projected_value = self.precompute(value, key)
        else:
            projected_key, projected_value = memory
        attention_mask = self._cross_attention_mask(query_mask, value_mask)
        outputs, probabilities = self._attend(
            projected_query,
            projected_key,
            projected_value,
            attention_mask,
            zero_masked_rows=True,
            training=training,
        )
        if return_attention_scores:
            return outputs, probabilities
        return outputs

    def _cross_attention_mask(self, query_mask, value_mask):
        """Boolean mask broadcastable to (batch, heads, query_time, key_time), or None."""
        attention_mask = None
        if value_mask is not None:
            attention_mask = ops.expand_dims(
                ops.cast(value_mask, "bool"), (1, 2)
            )  # (batch, 1, 1, key_time)
        if query_mask is not None:
            query_is_token = ops.expand_dims(
                ops.cast(query_mask, "bool"), (1, 3)
            )  # (batch, 1, query_time, 1)
            attention_mask = (
                query_is_token
                if attention_mask is None
                else ops.logical_and(query_is_token, attention_mask)
            )
        return attention_mask
