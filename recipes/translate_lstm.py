"""English -> Spanish with an LSTM encoder-decoder: the whole source squeezed into one state.

Lecture 2's sequence-to-sequence model and its bottleneck. The encoder
(an embedding with mask_zero=True, then layers.LSTMCell inside
keras.layers.RNN) reads the English tokens and keeps only its FINAL state
(h, c): padding is skipped, so that is the state after the last real token.
That state is the decoder's only view of the source: the decoder (another
LSTM, started from (h, c)) reads the Spanish written so far and predicts the
next token, with no attention back to the source. Everything the decoder
must say, a nine-digit number's every word, has to fit in `units` numbers,
so long sources suffer; compare translate_transformer, whose cross-attention
reads the source directly.

Data, teacher forcing, the masked per-token loss and the metrics are those of
translate_transformer (datasets/translation.py, recipes/_translation.py).
Translation is greedy decoding (the step carries (h, c)) or beam search:

    make train MODEL=translate_lstm
    python -m zoo translate translate_lstm --pretrained --text 'Tuesday, December 1, 2026'

Reaches test whole-sentence exact match 0.564 ± 0.158 over seeds 0, 1, 2, falling from 91% to
16% as the source grows (pretrained/translate_lstm/MODEL_CARD.md, docs/translate/buckets.md): the
bottleneck, measured. More: docs/results_attention.md.
"""

import dataclasses
import typing

import keras

import layers
from datasets import translation
from recipes import _common, _translation


@dataclasses.dataclass(frozen=True)
class Config(_common.TrainConfig):
    epochs: int = 8
    batch_size: int = 64
    learning_rate: float = 3e-3  # Peak of the cosine schedule.
    lr_schedule: typing.Literal["constant", "cosine", "exponential"] = "cosine"
    grad_clip_norm: float = 1.0  # Clip the global gradient norm (0: off).
    dataset: typing.Literal["translation_en_es"] = "translation_en_es"
    embedding_dim: int = 64  # Size of each token's learned vector (source and target).
    units: int = 256  # Size of both LSTMs' states: the bottleneck the whole source passes through.

    def __post_init__(self):
        super().__post_init__()
        for key in ("embedding_dim", "units"):
            _common.require(self, key, getattr(self, key) >= 1, "must be >= 1")
        _common.check_widths(self, "embedding_dim", "units")


TASK = "translation"
HEADLINE = "exact_match"
METRICS = _translation.METRICS  # exact_match (whole sentence) and token_accuracy, padding masked.
loss = _translation.token_crossentropy  # Nats per target token, padding masked.


def load_data(config):
    return translation.load()


def build_model(config, info):
    """LSTM encoder -> its final (h, c) -> LSTM decoder started from it -> vocabulary."""
    source_ids = keras.Input(shape=(None,), dtype="int32", name="source")  # (batch, source_time), 0 = padding
    target_ids = keras.Input(shape=(None,), dtype="int32", name="target_in")  # (batch, target_time): <start> + Spanish

    source_vectors = keras.layers.Embedding(
        info.vocab_size, config.embedding_dim, mask_zero=True, name="source_embedding"
    )(source_ids)  # (batch, source_time, embedding_dim); the mask makes the RNN skip padding
    _, hidden, cell = keras.layers.RNN(
        layers.LSTMCell(config.units, name="encoder_cell"), return_state=True, name="encoder"
    )(source_vectors)  # (batch, units) each: the state after the last real source token

    target_vectors = keras.layers.Embedding(
        info.vocab_size, config.embedding_dim, name="target_embedding"
    )(target_ids)  # (batch, target_time, embedding_dim)
    decoded = keras.layers.RNN(
        layers.LSTMCell(config.units, name="decoder_cell"), return_sequences=True, name="decoder"
    )(target_vectors, initial_state=[hidden, cell])  # (batch, target_time, units): the source only through (h, c)
    logits = layers.Dense(info.vocab_size, name="logits")(decoded)  # (batch, target_time, vocab): the next token
    return keras.Model([source_ids, target_ids], logits, name="translate_lstm")


def decoder_steps(model):
    """build_model's model one target token at a time: (start, step) for greedy decoding and beam search.

    `start` runs the encoder once for its final (h, c); `step` feeds one
    target token through the decoder's LSTMCell, carrying (h, c), then
    through everything build_model puts after the decoder (logits), taken
    from the model itself, so adding a layer there needs no edit here.
    """
    _, hidden, cell = model.get_layer("encoder").output
    encoder = keras.Model(model.inputs[0], [hidden, cell])  # source -> the decoder's initial (h, c)
    embedding = model.get_layer("target_embedding")
    decoder = model.get_layer("decoder")
    head = keras.Model(decoder.output, model.output)  # the decoder's states -> logits

    def start(source_ids):
        hidden, cell = encoder(source_ids, training=False)  # (batch, units) each
        return {"states": [hidden, cell]}

    def step(tokens, state, index):
        vectors = embedding(tokens)  # (batch, embedding_dim)
        hidden, states = decoder.cell(vectors, state["states"], training=False)  # (batch, units)
        logits = head(hidden[:, None, :], training=False)[:, 0, :]  # (batch, vocab)
        return keras.ops.log_softmax(logits), {"states": list(states)}

    return start, step


def translate(model, info, config, text: str, beam_size: int = 1) -> str:
    """Spanish for `text`: greedy (beam_size=1) or beam search, stepping (h, c) explicitly."""
    return _translation.translate(model, decoder_steps, info, text, beam_size)


def report(model, splits, config, workdir) -> dict:
    """Greedy decoding of the test split: exact match, BLEU and chrF (the card's mean ± std)."""
    return _translation.report(model, decoder_steps, splits)
