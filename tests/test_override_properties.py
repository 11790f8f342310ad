"""Property-based: whatever a user types as overrides, the parser gives a Config or one clean line.

Thousands of generated `key=value` lists go through zoo.engine.config.make_config (what
`python -m zoo train NAME key=value ...` calls) for recipes with int, float,
bool, str and Literal keys. The only allowed outcomes are a valid Config of the
recipe or a ValueError whose message is one non-empty line. No TF work per example.
"""

import dataclasses
import typing

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zoo.engine import config as config_lib
from zoo.engine import registry

# digits_mlp: int/float/bool/Literal keys with range checks; music_lstm adds a free str key.
RECIPES = ["digits_mlp", "music_lstm"]
CONFIGS = {name: registry.get_recipe(name).Config for name in RECIPES}
FIELD_NAMES = sorted({field.name for config in CONFIGS.values() for field in dataclasses.fields(config)})

TRICKY_VALUES = [
    "", " ", "0", "-0", "1", "-1", "2", "64", "0.5", "1e-3", "-1e-3", "1e308", "1e999", "-1e999",
    "nan", "NaN", "inf", "-inf", "Infinity", "true", "False", "yes", "off", "TRUE ", "None", "null",
    "0x10", "1_000", "١٢", "3.0", " 7 ", "1e", "--1", "+5", "adam", "ADAM", "sgd ", "relu", "digits",
    "mnist", "irish", "=", "==", "a=b", "'", '"', "\\", "\n", "\t1", "\x00", "🎵", "9" * 5000,
]
KEYS = st.one_of(
    st.sampled_from(FIELD_NAMES),
    st.sampled_from([" epochs", "epochs ", "Epochs", "learning_rte", "lr", "", "=", "hidden-units"]),
    st.text(max_size=12),
)
VALUES = st.one_of(
    st.sampled_from(TRICKY_VALUES),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(max_size=20),
)
SEPARATORS = st.sampled_from(["=", "=", "=", "==", " = ", ":", ""])
OVERRIDE = st.builds(lambda key, separator, value: f"{key}{separator}{value}", KEYS, SEPARATORS, VALUES)


def assert_valid(config, config_class):
    assert isinstance(config, config_class)
    hints = typing.get_type_hints(config_class)
    for field in dataclasses.fields(config_class):
        value = getattr(config, field.name)
        annotation = hints[field.name]
        if typing.get_origin(annotation) is typing.Literal:
            assert value in typing.get_args(annotation), field.name
        elif annotation is float:
            assert isinstance(value, (int, float)) and not isinstance(value, bool), field.name
        else:
            assert type(value) is annotation, field.name
    # What a run saves in config.json rebuilds the same Config.
    assert config_lib.from_dict(config_class, config_lib.to_dict(config)) == config


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(recipe=st.sampled_from(RECIPES), overrides=st.lists(OVERRIDE, max_size=4))
def test_any_override_list_gives_a_config_or_a_one_line_value_error(recipe, overrides):
    config_class = CONFIGS[recipe]
    try:
        config = config_lib.make_config(config_class, overrides)
    except ValueError as error:
        message = str(error)
        assert message.strip(), "empty message"
        assert len(message.splitlines()) == 1, message
        assert "Valid keys:" in message
        return
    assert_valid(config, config_class)
    # Each override that was accepted is reflected in the Config.
    for override in overrides:
        key, _, _ = override.partition("=")
        assert hasattr(config, key.strip())


@pytest.mark.parametrize(
    "overrides, expected",
    [
        (["batch_size=0"], "batch_size=0 is out of range"),
        (["learning_rate=-0.1"], "learning_rate=-0.1 is out of range"),
        (["learning_rate=nan"], "not a finite float"),
        (["epochs=2.5"], "epochs='2.5' is not an int"),
        (["dropout=1"], "dropout=1.0 is out of range"),
        (["learning_rte=0.1"], "Unknown key 'learning_rte'"),
        (["optimizer=adamw"], "optimizer='adamw' is not one of"),
        (["epochs"], "is not of the form key=value"),
        (["epochs=1", "epochs=2"], "given twice"),
    ],
)
def test_known_mistakes_name_the_key(overrides, expected):
    with pytest.raises(ValueError, match=expected):
        config_lib.make_config(CONFIGS["digits_mlp"], overrides)
