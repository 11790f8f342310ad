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

Measured (x86_64, 2 CPU cores shared with other jobs, load average 6-15; TF
2.21, Keras 3.15), `make train MODEL=music_lstm`: 666 steps (6 epochs) in 437
s of training (7 min 57 s for the whole command); best validation loss 1.163
nats = 1.678 bits/char (next-character accuracy 61.9%); test 1.125 nats =
1.623 bits/char. The same run with learning_rate=0.003 reached 1.316 nats
(1.899 bits/char) in 383 s, hence the default 1e-2. The `make generate` line
above wrote 10 tunes of which 9 parse in music21 and have notes (valid-song
rate 90%; 8 also render to .mid/.wav), at 2283 characters/s (tracing
included); with `--num-tunes 50 --seed 100`, 43 of 50 (86%). Against the MIT
6.S191 lab 1 model (keras Embedding 256, LSTM 1024, batch 8, Adam 5e-3) given
the same training time on the same split, `.venv/bin/python
benchmarks/mit_lab_music.py` (353 s of steps each, interleaved): this default
1.156 nats (666 steps), the lab model 1.461 nats (204 steps); see
docs/results_sequence.md.
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
