"""Reading the JSON files the zoo keeps, so that a damaged or hostile one is one clear line.

Every record the zoo reads back (a run's config.json, the pretrained manifest,
a card, a search's state, an output command's record) may have been cut short
by a kill, edited by hand, or forged. `read_json` turns each way such a file
can fail to parse (not UTF-8, not JSON, nested too deep for Python's parser)
into `errors.UserError` naming the file and what to do, and checks the top
level is the kind of value the caller expects.
"""

import json
import pathlib

from zoo import errors


def read_json(path, remedy: str, kind=dict):
    """The JSON value in `path`, which must be a `kind` (dict by default; None for any).

    Args:
        path: the file.
        remedy: what the user should do about a damaged file, e.g. "move the
            workdir aside or pass another --workdir".
        kind: the type the top-level value must have, or None.

    Raises:
        errors.MissingFileError: the file does not exist.
        errors.UserError: it cannot be read, is not UTF-8, is not JSON, is
            nested too deep to parse, or is not a `kind`.
    """
    path = pathlib.Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise errors.MissingFileError(f"{path} does not exist; {remedy}.") from None
    except OSError as error:
        raise errors.UserError(f"{path} cannot be read ({error.strerror}); {remedy}.") from None
    return parse_json(data, path, remedy, kind)


def parse_json(data: bytes, path, remedy: str, kind=dict):
    """`read_json` for bytes already read (`path` names where they came from)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise errors.UserError(f"{path} is not UTF-8 text (byte {error.start}); {remedy}.") from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise errors.UserError(f"{path} is not valid JSON ({error.msg} at line {error.lineno}); {remedy}.") from None
    except RecursionError:
        raise errors.UserError(f"{path} nests its brackets deeper than Python's parser allows; no record of the zoo does; {remedy}.") from None
    if kind is not None and not isinstance(value, kind):
        expected = {dict: "an object", list: "a list"}.get(kind, kind.__name__)
        raise errors.UserError(f"{path} holds {type(value).__name__!r} where {expected} was expected; {remedy}.")
    return value

