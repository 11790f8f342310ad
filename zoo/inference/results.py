"""What the inference functions return: plain values with reprs that fit on a screen.

Each result holds numbers and arrays, never files; the command line formats
them (str() gives the line the CLI prints), a notebook shows their repr.
"""

import dataclasses

import numpy as np

from zoo.inference import music


def _short(array) -> str:
    array = np.asarray(array)
    return f"array(shape={tuple(array.shape)}, dtype={array.dtype})"


@dataclasses.dataclass(frozen=True)
class Prediction:
    """One example's prediction: a class with its probability, a value, or a forecast.

    Attributes:
        kind: "class", "value" (regression) or "forecast".
        label: the class's name (kind "class").
        probability: the probability of `label` (kind "class").
        probabilities: every class's probability, in class order (kind "class").
        values: the regression value, or the forecast's values, in the data's units.
        unit: the values' unit, when the dataset gives one.
        outputs: the model's raw outputs (logits) for this example.
    """

    kind: str
    label: str = None
    probability: float = None
    probabilities: tuple = ()
    values: tuple = ()
    unit: str = ""
    outputs: tuple = ()

    def __str__(self) -> str:
        if self.kind == "class":
            return f"class {self.label} (probability {self.probability:.4f})"
        if self.kind == "value":
            return f"prediction {self.values[0]:.4g}"
        unit = f" ({self.unit})" if self.unit else ""
        return f"next {len(self.values)}{unit}: " + ", ".join(f"{value:.2f}" for value in self.values)

    def __repr__(self) -> str:
        return f"Prediction({self})"


@dataclasses.dataclass(frozen=True)
class Tune:
    """One generated tune in ABC notation, whether music21 reads it as music with notes, and whether it
    was cut at music.MAX_BARS bars.

    In a notebook a tune shows as sheet music (abcjs, when `npm install` has put it in
    the zoo's checkout; else its ABC text), and plays with

        IPython.display.Audio(tune.audio(), rate=tune.sample_rate)
    """

    abc: str
    valid: bool
    cut: bool = False
    sample_rate: int = music.SAMPLE_RATE  # Of `audio()`.

    def audio(self):
        """The tune synthesized from its MIDI (float, mono, `sample_rate` Hz); a UserError if not valid."""
        return music.audio(self.abc, self.sample_rate)

    def _repr_html_(self) -> str:
        return music.sheet_music_html(self.abc)

    def __repr__(self) -> str:
        title = next((line[2:].strip() for line in self.abc.splitlines() if line.startswith("T:")), "")
        return f"Tune({title or 'untitled'!r}, {len(self.abc)} chars, valid={self.valid})"


@dataclasses.dataclass(frozen=True)
class Generation:
    """Samples from a language model.

    Attributes:
        texts: each sample, its prompt included (seeds seed, seed+1, ...).
        tunes: for a model of ABC tunes, the tunes in the samples; else empty.
        prompt, length, temperature, seed: what was asked.
        seconds: time spent sampling (the first call includes tracing).
    """

    texts: tuple
    tunes: tuple
    prompt: str
    length: int
    temperature: float
    seed: int
    seconds: float

    @property
    def tokens(self) -> int:
        return len(self.texts) * self.length

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / max(self.seconds, 1e-9)

    @property
    def valid_song_rate(self) -> float:
        return sum(tune.valid for tune in self.tunes) / len(self.tunes) if self.tunes else 0.0

    def __repr__(self) -> str:
        music = f", {sum(t.valid for t in self.tunes)}/{len(self.tunes)} valid tunes" if self.tunes else ""
        return f"Generation({len(self.texts)} samples of {self.length} tokens{music}, {self.tokens_per_second:.0f} tokens/s)"


@dataclasses.dataclass(frozen=True)
class Translation:
    """A translation, with the source and output tokens, and the cross-attention on request.

    `attention` is (target tokens, source tokens): how much each output token
    attended to each source token (averaged over heads), or None.
    """

    text: str
    source: str
    beam_size: int = 1
    source_tokens: tuple = ()
    target_tokens: tuple = ()
    attention: object = None

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        attention = f", attention={_short(self.attention)}" if self.attention is not None else ""
        return f"Translation({self.text!r}{attention})"


@dataclasses.dataclass(frozen=True)
class Attention:
    """A transformer block's self-attention: `weights` is (heads, tokens, tokens), rows are queries."""

    tokens: tuple
    weights: np.ndarray
    block: int

    def __repr__(self) -> str:
        return f"Attention(block {self.block}, {len(self.tokens)} tokens, weights={_short(self.weights)})"


@dataclasses.dataclass(frozen=True)
class Features:
    """What a CNN's convolutions learned, for one input.

    Attributes:
        input: the preprocessed example, (height, width) for one channel.
        layers: the Conv2D layers' names, in order.
        filters: layer name -> kernel (kernel_h, kernel_w, in_channels, filters).
        maps: layer name -> that layer's feature maps for `input`, (h, w, filters).
        top_inputs: for the last layer, channel -> indices of the test images it responds to most.
        test_images: the test split's images that `top_inputs` indexes, (n, height, width).
    """

    input: np.ndarray
    layers: tuple
    filters: dict
    maps: dict
    top_inputs: dict
    test_images: np.ndarray

    def __repr__(self) -> str:
        shapes = ", ".join(f"{name}: {tuple(self.maps[name].shape)}" for name in self.layers)
        return f"Features(input {tuple(self.input.shape)}, maps {{{shapes}}}, top inputs of {len(self.top_inputs)} channels)"
