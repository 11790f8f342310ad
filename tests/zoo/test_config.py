"""Strict typed overrides: every mistake is one ValueError line naming valid keys."""

import pytest

from recipes import perceptron_gates
from zoo.engine import config as config_lib

Config = perceptron_gates.Config


def test_defaults_and_typed_parsing():
    config = config_lib.make_config(
        Config, ["epochs=3", "learning_rate=1e-2", "skip_nonfinite=true", "optimizer=sgd", "gate=and"]
    )
    assert config.epochs == 3 and isinstance(config.epochs, int)
    assert config.learning_rate == pytest.approx(0.01)
    assert config.skip_nonfinite is True
    assert (config.optimizer, config.gate) == ("sgd", "and")
    assert config_lib.make_config(Config) == Config()


def test_dict_overrides_accept_typed_values():
    assert config_lib.make_config(Config, {"epochs": 5, "learning_rate": "0.5"}).epochs == 5


@pytest.mark.parametrize(
    "override, fragment",
    [
        ("lr=0.1", "Unknown key 'lr'"),
        ("epochs=2.5", "epochs='2.5' is not an int"),
        ("learning_rate=fast", "is not a float"),
        ("learning_rate=-1", "learning_rate must be a finite number > 0"),
        ("learning_rate=nan", "not a finite float"),
        ("batch_size=0", "batch_size must be >= 1"),
        ("seed=1000000000000000000000000000000", "seed must be in [0, 2**31)"),
        ("optimizer=lbfgs", "is not one of: sgd, momentum"),
        ("skip_nonfinite=maybe", "is not a bool"),
        ("hidden_units=-1", "hidden_units must be >= 0"),
        ("epochs", "not of the form key=value"),
        ("=3", "not of the form key=value"),
    ],
)
def test_bad_overrides_are_one_line_errors_naming_valid_keys(override, fragment):
    with pytest.raises(ValueError) as error:
        config_lib.make_config(Config, [override])
    message = str(error.value)
    assert fragment in message
    assert "\n" not in message
    assert "Valid keys: seed:int" in message


def test_duplicate_key_is_refused():
    with pytest.raises(ValueError, match="given twice"):
        config_lib.make_config(Config, ["epochs=1", "epochs=2"])


def test_config_is_frozen_and_validated_on_direct_construction():
    with pytest.raises(ValueError, match="batch_size"):
        Config(batch_size=0)
    with pytest.raises(ValueError, match="wrong type"):
        Config(epochs="3")
    with pytest.raises(Exception):
        Config().epochs = 4  # frozen


def test_round_trip_through_dict_and_differences():
    config = config_lib.make_config(Config, ["epochs=7", "gate=or"])
    values = config_lib.to_dict(config)
    assert config_lib.from_dict(Config, values) == config
    assert config_lib.differences(values, {**values, "epochs": 8}) == ["epochs: 7 -> 8"]
