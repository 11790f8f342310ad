"""Small file helpers shared by the zoo: reading a JSON file that a user may have damaged.

A JSON file in a workdir can be cut short by a kill, edited by hand, or be
someone else's file under our name. Reading one must then end in one line that
names the file (a `errors.UserError`), not in a traceback from deep inside the
json module.
"""

import json

from zoo import errors


def read_json(path, what: str):
    """The parsed content of the JSON file `path`.

    Args:
        path: the file (a str or pathlib.Path).
        what: what the file should hold, for the message, e.g.
            "keras-tuner's oracle state".

    Raises:
        errors.UserError: the file is not UTF-8, not JSON (say, cut short),
            or nested too deeply to parse. The message names the file and
            says what to do.
        OSError: the file cannot be read (missing, permission): the caller's
            to handle, or the CLI's one line for an environmental fault.
    """
    with open(path, "rb") as stream:
        data = stream.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        problem = f"is not UTF-8 text (byte {error.start})"
    else:
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            problem = f"is not valid JSON ({error.msg} at line {error.lineno} column {error.colno}; cut short or edited?)"
        except RecursionError:
            problem = "is JSON nested too deeply to read"
    raise errors.UserError(
        f"{path} {problem}, so it is not {what}; restore it, or move its folder aside and start again."
    )
