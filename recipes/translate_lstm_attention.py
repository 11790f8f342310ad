"""English -> Spanish with an LSTM encoder-decoder that attends over every source state.

translate_lstm with its bottleneck removed, the step from lecture 2's
sequence-to-sequence model to attention. The encoder (an embedding with
mask_zero=True, then layers.LSTMCell inside keras.layers.RNN, run both ways by
keras.layers.Bidirectional, units // 2 per direction) keeps its state after
EVERY source token, h_j = [forward_j; backward_j], not only the last one. The
decoder (another LSTM, started from the two directions' final (h, c),
concatenated) reads the Spanish written so far; at every step its state s_t is
the query of one-head dot-product attention (layers.CrossAttention,
num_heads=1: the same maths as the transformer's cross-attention) over all
the encoder's states h_1..h_S:

    a_t = softmax((W_q s_t) . (W_k h_j) / sqrt(units))   over the real source tokens j
    context_t = W_o sum_j a_tj W_v h_j
    attended_t = tanh(W_c [s_t; context_t])               (Luong et al. 2015, "global attention")
    logits_t = W_y attended_t

The source's padding is never attended to (the embedding's mask travels to
the attention). Because the attention is read off s_t and not fed back into
the LSTM, teacher forcing runs the decoder LSTM over the whole target at once
and one attention over all positions; decoding carries (h, c) and the
source's keys and values, projected once.

Data, teacher forcing, the masked per-token loss and the metrics are those of
translate_lstm and translate_transformer (datasets/translation.py,
recipes/_translation.py). Translation is greedy decoding or beam search:

    make train MODEL=translate_lstm_attention
    python -m zoo translate translate_lstm_attention --pretrained --text 'Tuesday, December 1, 2026'

Reaches test whole-sentence exact match 0.9995 ± 0.0005 over seeds 0, 1, 2
(2 CPU cores, 96-158 s per seed; pretrained/translate_lstm_attention/MODEL_CARD.md),
100% in every source-length bucket where translate_lstm falls to 20%. Why both
directions: docs/results_attention.md; the buckets: docs/translate/buckets.md.
"""

import dataclasses
import typing

import keras

import layers
from datasets import translation
from recipes import _common, _translation


@dataclasses.dataclass(frozen=True)
class Config(_common.TrainConfig):
    epochs: int = 16  # Twice translate_lstm's: at 8, seed 0 had 0.795 validation exact match, still climbing.
    batch_size: int = 64
    learning_rate: float = 3e-3  # Peak of the cosine schedule.
    lr_schedule: typing.Literal["constant", "cosine", "exponential"] = "cosine"
    grad_clip_norm: float = 1.0  # Clip the global gradient norm (0: off).
    dataset: typing.Literal["translation_en_es"] = "translation_en_es"
    embedding_dim: int = 64  # Size of each token's learned vector (source and target).
    units: int = 128  # Size of both LSTMs' states, and of the attention's queries, keys and values.

    def __post_init__(self):
        super().__post_init__()
        for key in ("embedding_dim", "units"):
            _common.require(self, key, getattr(self, key) >= 1, "must be >= 1")
        _common.check_widths(self, "embedding_dim", "units")
        _common.require(self, "units", self.units % 2 == 0, "must be even (half per encoder direction)")


TASK = "translation"
HEADLINE = "exact_match"
METRICS = _translation.METRICS  # exact_match (whole sentence) and token_accuracy, padding masked.
loss = _translation.token_crossentropy  # Nats per target token, padding masked.


def load_data(config):
    return translation.load()


def build_model(config, info):
    """LSTM encoder (every state kept) -> LSTM decoder -> attention over the source -> vocabulary."""
    source_ids = keras.Input(shape=(None,), dtype="int32", name="source")  # (batch, source_time), 0 = padding
    target_ids = keras.Input(shape=(None,), dtype="int32", name="target_in")  # (batch, target_time): <start> + Spanish

    source_vectors = keras.layers.Embedding(
        info.vocab_size, config.embedding_dim, mask_zero=True, name="source_embedding"
    )(source_ids)  # (batch, source_time, embedding_dim); the mask makes the RNN skip padding
    half = config.units // 2
    encoded, forward_hidden, forward_cell, backward_hidden, backward_cell = keras.layers.Bidirectional(
        keras.layers.RNN(layers.LSTMCell(half, name="encoder_cell"), return_sequences=True, return_state=True),
        name="encoder",
    )(source_vectors)  # (batch, source_time, units) = [forward; backward] per token, carrying the mask; (batch, half) x4
    hidden = keras.layers.Concatenate(name="initial_hidden")([forward_hidden, backward_hidden])  # (batch, units)
    cell = keras.layers.Concatenate(name="initial_cell")([forward_cell, backward_cell])  # (batch, units)

    target_vectors = keras.layers.Embedding(
        info.vocab_size, config.embedding_dim, name="target_embedding"
    )(target_ids)  # (batch, target_time, embedding_dim)
    decoded = keras.layers.RNN(
        layers.LSTMCell(config.units, name="decoder_cell"), return_sequences=True, name="decoder"
    )(target_vectors, initial_state=[hidden, cell])  # (batch, target_time, units): s_t
    context = layers.CrossAttention(num_heads=1, key_dim=config.units, name="attention")(
        decoded, encoded
    )  # (batch, target_time, units): each s_t reads every real source state
    attended = layers.Dense(config.units, activation="tanh", name="attention_output")(
        keras.layers.Concatenate(name="attention_concat")([decoded, context])
    )  # (batch, target_time, units): tanh(W_c [s_t; context_t])
    logits = layers.Dense(info.vocab_size, name="logits")(attended)  # (batch, target_time, vocab): the next token
    return keras.Model([source_ids, target_ids], logits, name="translate_lstm_attention")


def decoder_steps(model):
    """build_model's model one target token at a time: (start, step) for greedy decoding and beam search.

    `start` runs the encoder once and projects its states into the
    attention's keys and values, once; `step` feeds one target token through
    the decoder's LSTMCell (s_t), attends with it over the source, then runs
    [s_t; context_t] through everything build_model puts after the attention
    (attention_output and logits), taken from the model itself, so adding a
    layer there needs no edit here.
    """
    encoder = keras.Model(
        model.inputs[0],
        [model.get_layer("encoder").output[0], model.get_layer("initial_hidden").output, model.get_layer("initial_cell").output],
    )  # source -> [every source state, the decoder's initial h, c]
    embedding = model.get_layer("target_embedding")
    decoder = model.get_layer("decoder")
    attention = model.get_layer("attention")
    head = keras.Model([decoder.output, attention.output], model.output)  # (s_t, context_t) -> logits

    def start(source_ids):
        encoded, hidden, cell = encoder(source_ids, training=False)  # (batch, source_time, units), (batch, units) x2
        keys, values = attention.precompute(encoded)  # (batch, 1, source_time, units) each
        source_mask = keras.ops.not_equal(source_ids, translation.PADDING_ID)  # (batch, source_time)
        return {"states": [hidden, cell], "memory": [keys, values], "source_mask": source_mask}

    def step(tokens, state, index):
        vectors = embedding(tokens)  # (batch, embedding_dim)
        hidden, states = decoder.cell(vectors, state["states"], training=False)  # (batch, units): s_t
        hidden = hidden[:, None, :]  # (batch, 1, units)
        context = attention(
            hidden, memory=tuple(state["memory"]), value_mask=state["source_mask"], training=False
        )  # (batch, 1, units)
        logits = head([hidden, context], training=False)[:, 0, :]  # (batch, vocab)
        return keras.ops.log_softmax(logits), {**state, "states": list(states)}

    return start, step


def translate(model, info, config, text: str, beam_size: int = 1) -> str:
    """Spanish for `text`: greedy (beam_size=1) or beam search, stepping (h, c) over a fixed source."""
    return _translation.translate(model, decoder_steps, info, text, beam_size)


def report(model, splits, config, workdir) -> dict:
    """Greedy decoding of the test split: exact match, BLEU and chrF (the card's mean ± std)."""
    return _translation.report(model, decoder_steps, splits)
