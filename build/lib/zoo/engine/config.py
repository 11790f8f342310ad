"""Strict, typed `key=value` overrides for a recipe's frozen `Config` dataclass.

An override names a field of the recipe's `Config` and gives it a value that is
parsed by that field's annotation (int, float, bool, str or a Literal choice).
Anything else (an unknown key, a value of the wrong type, a value the Config
rejects as out of range) is a ValueError whose one line names the valid keys.
"""

import dataclasses
import math
import typing

from zoo import errors

# Keys that change how fast a run goes, not what it computes: a resume may change them.
SPEED_KEYS = ("steps_per_call",)

_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")


def field_types(config_class) -> dict:
    """Maps each field name of a Config dataclass to its resolved annotation."""
    hints = typing.get_type_hints(config_class)
    return {field.name: hints[field.name] for field in dataclasses.fields(config_class)}


def describe_keys(config_class) -> str:
    """A compact list of valid keys with their types, for error messages."""
    parts = []
    for name, annotation in field_types(config_class).items():
        parts.append(f"{name}:{_type_name(annotation)}")
    return ", ".join(parts)


def parse_value(key: str, text: str, annotation):
    """Parses `text` as a value of `annotation`, or raises a one-line ValueError."""
    if typing.get_origin(annotation) is typing.Literal:
        choices = typing.get_args(annotation)
        if text not in choices:
            raise errors.UserError(
                f"{key}={text!r} is not one of: {', '.join(map(str, choices))}."
            )
        return text
    if annotation is bool:
        lowered = text.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise errors.UserError(f"{key}={text!r} is not a bool: use true or false.")
    if annotation is int:
        try:
            return int(text.strip(), 10)
        except ValueError:
            raise errors.UserError(f"{key}={text!r} is not an int.") from None
    if annotation is float:
        try:
            value = float(text.strip())
        except ValueError:
            raise errors.UserError(f"{key}={text!r} is not a float.") from None
        if not math.isfinite(value):
            raise errors.UserError(f"{key}={text!r} is not a finite float.")
        return value
    if annotation is str:
        return text
    raise TypeError(f"Config field {key} has an unsupported type {annotation!r}.")


def split_overrides(arguments) -> dict:
    """Turns ["a=1", "b=x"] into {"a": "1", "b": "x"}; rejects malformed items."""
    overrides = {}
    for argument in arguments:
        key, separator, value = argument.partition("=")
        key = key.strip()
        if not separator or not key:
            raise errors.UserError(
                f"Override {argument!r} is not of the form key=value "
                "(for example learning_rate=0.01)."
            )
        if key in overrides:
            raise errors.UserError(f"Override key {key!r} is given twice.")
        overrides[key] = value
    return overrides


def make_config(config_class, overrides=None):
    """Builds a Config from defaults plus overrides.

    Args:
        config_class: a recipe's frozen Config dataclass.
        overrides: a mapping of key to value (a string to parse, or an already
            typed value), or a list of "key=value" strings.

    Returns:
        A validated instance of `config_class`.

    Raises:
        ValueError: one line naming the problem and the valid keys.
    """
    try:
        if overrides is None:
            overrides = {}
        elif not isinstance(overrides, dict):
            overrides = split_overrides(overrides)
        types = field_types(config_class)
        values = {}
        for key, value in overrides.items():
            if key not in types:
                raise errors.UserError(f"Unknown key {key!r}.")
            values[key] = parse_value(key, value, types[key]) if isinstance(value, str) else value
        return config_class(**values)
    except ValueError as error:
        raise errors.UserError(f"{error} Valid keys: {describe_keys(config_class)}.") from None


def to_dict(config) -> dict:
    """The config as a plain JSON-ready dict, in field order."""
    return dataclasses.asdict(config)


def from_dict(config_class, values: dict):
    """Rebuilds a Config from `to_dict` output (e.g. a run's config.json)."""
    return make_config(config_class, dict(values))


def differences(old: dict, new: dict) -> list:
    """Keys whose values differ between two config dicts, as 'key: old -> new'."""
    keys = sorted(set(old) | set(new))
    return [
        f"{key}: {old.get(key)!r} -> {new.get(key)!r}"
        for key in keys
        if old.get(key) != new.get(key)
    ]


def _type_name(annotation) -> str:
    if typing.get_origin(annotation) is typing.Literal:
        return "|".join(map(str, typing.get_args(annotation)))
    return getattr(annotation, "__name__", str(annotation))
