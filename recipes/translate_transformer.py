"""English -> Spanish with an encoder-decoder transformer: cross-attention reads the whole source.

Lecture 2's attention, put to the job it was invented for. The encoder
(layers.PositionalEmbedding with mask_zero=True, then `num_blocks`
layers.TransformerBlock, no causal mask) turns the English tokens into one
vector per token; the decoder (`num_blocks` layers.DecoderBlock: causal
self-attention over the Spanish written so far, then layers.CrossAttention
over the encoder's vectors, then the feed-forward) predicts the next Spanish
token. Every decoder position can look straight at any source token, so a
long source is no harder to read than a short one, and the source's padding
is never attended to (its Keras mask travels from the embedding to every
DecoderBlock).

Data: datasets/translation.py, English numbers written out (num2words) and
dates in CLDR's full format (babel), with their Spanish translations; split
by the number or date, so every test value is new. Training is teacher
forcing with the per-token cross-entropy, padding masked out of the loss and
the metrics (recipes/_translation.py). Translation is greedy decoding with a
key/value cache, or beam search:

    make train MODEL=translate_transformer
    python -m zoo translate translate_transformer --pretrained --text 'Tuesday, December 1, 2026'
    python -m zoo translate translate_transformer --pretrained --beam-size 4 --text 'four thousand, three hundred and twenty-one'

Reaches test whole-sentence exact match 0.997 ± 0.000 over seeds 0, 1, 2 (2 CPU
cores, 212-253 s per seed; pretrained/translate_transformer/MODEL_CARD.md), 98-100%
at every source length (docs/translate/buckets.md). More measurements:
docs/results_attention.md.
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
    learning_rate: float = 2e-3  # Peak of the cosine schedule.
    lr_schedule: typing.Literal["constant", "cosine", "exponential"] = "cosine"
    grad_clip_norm: float = 1.0  # Clip the global gradient norm (0: off).
    dataset: typing.Literal["translation_en_es"] = "translation_en_es"
    model_dim: int = 64  # Size of every token's vector in the encoder and the decoder (d_model).
    num_heads: int = 4  # Attention heads in every attention; each has model_dim // num_heads dimensions.
    num_blocks: int = 2  # Encoder blocks, and as many decoder blocks.
    ff_dim: int = 128  # Hidden size of each block's feed-forward network.
    dropout: float = 0.1  # Dropout on attention probabilities and block outputs (0: off).

    def __post_init__(self):
        super().__post_init__()
        for key in ("model_dim", "num_heads", "num_blocks", "ff_dim"):
            _common.require(self, key, getattr(self, key) >= 1, "must be >= 1")
        _common.check_widths(self, "model_dim", "ff_dim")
        _common.require(self, "model_dim", self.model_dim % self.num_heads == 0, "must be divisible by num_heads")
        _common.require(self, "dropout", 0.0 <= self.dropout < 1.0, "must be in [0, 1)")


TASK = "translation"
HEADLINE = "exact_match"
METRICS = _translation.METRICS  # exact_match (whole sentence) and token_accuracy, padding masked.
loss = _translation.token_crossentropy  # Nats per target token, padding masked.


def load_data(config):
    return translation.load()


def build_model(config, info):
    """Encoder (blocks without a causal mask) -> decoder (causal self-attention + cross-attention) -> vocabulary."""
    source_ids = keras.Input(shape=(None,), dtype="int32", name="source")  # (batch, source_time), 0 = padding
    target_ids = keras.Input(shape=(None,), dtype="int32", name="target_in")  # (batch, target_time): <start> + Spanish

    encoded = layers.PositionalEmbedding(
        info.vocab_size, info.extras["source_length"], config.model_dim, mask_zero=True, name="source_embedding"
    )(source_ids)  # (batch, source_time, model_dim), carrying the padding mask
    for index in range(config.num_blocks):
        block = layers.TransformerBlock(config.num_heads, config.ff_dim, dropout=config.dropout, name=f"encoder_{index + 1}")
        encoded = block(encoded)  # every source token sees every real source token
    encoded = keras.layers.LayerNormalization(epsilon=1e-5, name="encoder_norm")(encoded)

    hidden = layers.PositionalEmbedding(
        info.vocab_size, info.extras["target_length"], config.model_dim, name="target_embedding"
    )(target_ids)  # (batch, target_time, model_dim)
    for index in range(config.num_blocks):
        block = layers.DecoderBlock(config.num_heads, config.ff_dim, dropout=config.dropout, name=f"decoder_{index + 1}")
        hidden = block(hidden, encoded)  # causal over the target, cross-attention over the real source tokens
    hidden = keras.layers.LayerNormalization(epsilon=1e-5, name="decoder_norm")(hidden)
    logits = layers.Dense(info.vocab_size, name="logits")(hidden)  # (batch, target_time, vocab): the next token
    return keras.Model([source_ids, target_ids], logits, name="translate_transformer")


def decoder_steps(model):
    """build_model's model one target token at a time: (start, step) for greedy decoding and beam search.

    `start` runs the encoder once and gives every decoder block an empty
    key/value cache and the source's keys and values, projected once; `step`
    feeds one target token through the blocks, then through everything
    build_model puts after the last block (decoder_norm and logits), taken
    from the model itself, so adding a layer there needs no edit here.
    """
    encoder = keras.Model(model.inputs[0], model.get_layer("encoder_norm").output)  # source -> encoded source
    embedding = model.get_layer("target_embedding")
    blocks = [layer for layer in model.layers if isinstance(layer, layers.DecoderBlock)]
    head = keras.Model(blocks[-1].output, model.output)  # the last block's output -> logits

    def start(source_ids):
        encoded = encoder(source_ids, training=False)  # (batch, source_time, model_dim)
        batch_size = keras.ops.shape(source_ids)[0]
        return {
            "caches": [block.init_cache(batch_size, embedding.max_length, encoded) for block in blocks],
            "source_mask": keras.ops.not_equal(source_ids, translation.PADDING_ID),  # (batch, source_time)
        }

    def step(tokens, state, index):
        hidden = embedding(tokens[:, None], start_position=index)  # (batch, 1, model_dim): token at position index
        caches = []
        for block, cache in zip(blocks, state["caches"]):
            hidden, cache = block(
                hidden, cache=cache, cache_index=index, encoder_padding_mask=state["source_mask"], training=False
            )  # (batch, 1, model_dim): attends to the cached target positions and to the real source tokens
            caches.append(cache)
        logits = head(hidden, training=False)[:, 0, :]  # (batch, vocab)
        return keras.ops.log_softmax(logits), {**state, "caches": caches}

    return start, step


def translate(model, info, config, text: str, beam_size: int = 1) -> str:
    """Spanish for `text`: greedy with a key/value cache (beam_size=1) or beam search."""
    return _translation.translate(model, decoder_steps, info, text, beam_size)


def report(model, splits, config, workdir) -> dict:
    """Greedy decoding of the test split: exact match, BLEU and chrF (the card's mean ± std)."""
    return _translation.report(model, decoder_steps, splits)
