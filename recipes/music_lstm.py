"""Irish folk music with an LSTM: next-character prediction over ABC notation.

Lecture 2 (and MIT 6.S191 lab 1): a character language model. Each tune is text
in ABC notation; the model reads 100 characters and predicts, at every
position, the next one: embedding -> LSTM (layers.LSTMCell, from scratch,
inside keras.layers.RNN) -> dense over the vocabulary, softmax cross-entropy
(in nats; `bits_per_char` is the same in bits). Sampling then writes new
tunes one character at a time (`generate`, explicit state, no stateful layer).
`dataset=tiny_shakespeare` trains the same model on Shakespeare (tfds; needs
internet once), and `data_path=FILE` on your own ABC or text file.

    make train MODEL=music_lstm
    make generate MODEL=music_lstm ARGS="--num-tunes 10 --length 600 --temperature 0.8 --seed 0"

Reaches test 1.635 ± 0.032 bits/char over seeds 0, 1, 2 (pretrained/music_lstm/MODEL_CARD.md).
One run's measurements and the MIT lab model beside it: docs/results_sequence.md.
"""

import dataclasses
import typing

import keras

import layers
from datasets import irish, tiny_shakespeare
from recipes import _common, _sequence


@dataclasses.dataclass(frozen=True)
class Config(_common.TrainConfig):
    epochs: int = 6
    batch_size: int = 64
    learning_rate: float = 1e-2  # Peak of the cosine schedule (3e-3: 1.316 nats, see above).
    lr_schedule: typing.Literal["constant", "cosine", "exponential"] = "cosine"
    grad_clip_norm: float = 1.0  # Clip the global gradient norm: long sequences can spike.
    dataset: typing.Literal["irish", "tiny_shakespeare"] = "irish"
    data_path: str = ""  # Your own ABC/text file instead of the bundled tunes ("": irish.abc).
    sequence_length: int = 100  # Characters per training window (backprop through time).
    embedding_dim: int = 64  # Size of each character's learned vector.
    units: int = 256  # Size of the LSTM's hidden and cell states.

    def __post_init__(self):
        super().__post_init__()
        for key in ("sequence_length", "embedding_dim", "units"):
            _common.require(self, key, getattr(self, key) >= 1, "must be >= 1")
        _common.check_widths(self, "embedding_dim", "units")


TASK = "language_model"
HEADLINE = "bits_per_char"
METRICS = {"bits_per_char": _common.bits_per_char, "accuracy": _common.accuracy}
loss = _common.sparse_crossentropy  # Per character, in nats.


def load_data(config):
    if config.dataset == "tiny_shakespeare":
        return tiny_shakespeare.load(sequence_length=config.sequence_length)
    return irish.load_language_model(path=config.data_path or None, sequence_length=config.sequence_length)


def build_model(config, info):
    cell = layers.LSTMCell(config.units, name="lstm_cell")
    ids = keras.Input(shape=(None,), dtype="int32", name="ids")  # (batch, time) character ids
    vectors = keras.layers.Embedding(info.vocab_size, config.embedding_dim, name="embedding")(ids)  # (batch, time, embedding_dim)
    hidden = keras.layers.RNN(cell, return_sequences=True, name="recurrent")(vectors)  # (batch, time, units)
    logits = layers.Dense(info.vocab_size, name="logits")(hidden)  # (batch, time, vocab_size): the next character
    return keras.Model(ids, logits, name="music_lstm")


def generate(model, info, config, prompt: str, length: int, temperature: float, seed: int) -> str:
    """prompt + `length` sampled characters (see recipes/_sequence.py)."""
    return _sequence.generate(model, info.vocabulary, prompt, length, temperature, seed)
