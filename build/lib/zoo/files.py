"""The zoo's file helpers, each defined once: a folder's lock, an atomic write, sha256, and JSON reading.

- `owned(folder)`: the exclusive lock that makes a process a folder's one owner
  (a run directory, a search, an output folder, the manifest).
- `write_atomically(path, text)`: a kill leaves the old file or the new one.
- `sha256_bytes`, `sha256_file`: the hashes the manifest and run records keep.
- `read_json(path, remedy)`: a damaged or hostile JSON file is one clear line.

Every record the zoo reads back (a run's config.json, the pretrained manifest,
a card, a search's state, an output command's record) may have been cut short
by a kill, edited by hand, or forged. `read_json` turns each way such a file
can fail to parse (not UTF-8, not JSON, nested too deep for Python's parser)
into `errors.UserError` naming the file and what to do, and checks the top
level is the kind of value the caller expects.
"""

import contextlib
import fcntl
import hashlib
import json
import os
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


LOCK_NAME = ".lock"
# Locks this process holds: real path of the directory -> [open lock file, depth].
_HELD = {}


@contextlib.contextmanager
def owned(directory, what: str = "workdir", note: str = "", lock_name: str = None, wait: bool = False):
    """Holds the exclusive lock of `directory` (created if needed) for the block.

    Re-entrant within a process (a command that trains into its own directory
    holds it once). The lock file (`lock_name`, default .lock) is the zoo's own
    and is never deleted; it holds the holder's pid on its first line and `note`
    (one line) on its second. With `wait`, a held lock is waited for instead of
    refused (writers of one shared file, such as the manifest).

    Raises:
        errors.UserError: another process holds the lock, or the directory is
            not a writable folder.
    """
    directory = pathlib.Path(directory)
    if str(directory) in ("", "."):
        raise errors.UserError(f"The {what} is empty; pass --{what.split()[0]} with a directory (for example runs/my_run).")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        key = os.path.join(os.path.realpath(directory), lock_name or LOCK_NAME)
        if key in _HELD:
            _HELD[key][1] += 1
        else:
            stream = open(directory / (lock_name or LOCK_NAME), "a+")
            try:
                fcntl.flock(stream, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                stream.seek(0)
                pid, held_note = _parse_holder(stream.read())
                stream.close()
                raise errors.UserError(
                    f"{what.capitalize()} {str(directory)!r} is in use by {describe_holder(pid, held_note)}; wait "
                    f"for it to finish (or stop it), or pass another --{what.split()[0]}."
                ) from None
            stream.seek(0)
            stream.truncate()
            note = " ".join(note.split())
            stream.write(f"{os.getpid()}\n" + (f"{note}\n" if note else ""))
            stream.flush()
            _HELD[key] = [stream, 1]
    except OSError as error:
        raise errors.UserError(
            f"{what.capitalize()} {str(directory)!r} cannot be written ({error.strerror}); "
            f"pass --{what.split()[0]} with a writable directory."
        ) from None
    try:
        yield directory
    finally:
        _HELD[key][1] -= 1
        if _HELD[key][1] == 0:
            _HELD.pop(key)[0].close()  # Closing the file releases the lock.


def _parse_holder(text: str) -> tuple:
    """(pid, note) as a lock file records them ("unknown" for a pid it lacks)."""
    lines = text.splitlines()
    pid = lines[0].strip() if lines and lines[0].strip() else "unknown"
    return pid, (lines[1].strip() if len(lines) > 1 else "")


def describe_holder(pid: str, note: str = "") -> str:
    """'process PID' (with its note), as the messages about a held directory say it."""
    return f"process {pid}" + (f" ({note})" if note else "")


def holder(directory):
    """(pid, note) of the process that holds `directory`'s lock, or None when no process does.

    Reads only: no directory or lock file is created. Finding the lock free
    takes it for an instant, so call this only where a free lock is itself
    the anomaly (a worker whose chief should hold the folder already).
    """
    path = pathlib.Path(directory) / LOCK_NAME
    try:
        stream = open(path, "r")
    except FileNotFoundError:
        return None
    with stream:
        try:
            fcntl.flock(stream, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _parse_holder(stream.read())
        fcntl.flock(stream, fcntl.LOCK_UN)
        return None


def write_atomically(path, text: str) -> None:
    """Writes `text` to `path` so that a kill leaves either the old or the new file."""
    path = pathlib.Path(path)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path) -> str:
    """The sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
