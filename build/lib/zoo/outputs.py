"""What an output command may write: its own files, in its own folder, and nothing else.

generate, export, features, attention and gallery write every file through
`Outputs`, so each holds to three rules.

- It never overwrites or deletes a file it did not create. What a command
  created is what its record file in the output folder lists (key "files":
  paths relative to the folder, e.g. generate's generation.json). A rerun may
  replace or remove those; any other file in its way is refused before
  anything changes. A command without a record (export) never replaces a file.
- It never follows a symbolic link out of its folder. An output name that is a
  link (dangling or not), a listed path that is one, or one whose folder inside
  the output folder is one, is refused in one line naming the link. The output
  folder itself may be a link: the user named it. The moves and deletions go
  through folder descriptors opened with O_NOFOLLOW, so a link planted between
  the check and the write is refused too, never followed.
- Each file is written atomically into the real folder: drawn in a scratch
  folder inside it (`.tmp-*`, so on the same file system), then renamed into
  place; a kill leaves the old file or the new one. The record is rewritten
  before any file moves in, listing the old files and the new names, so a
  killed call leaves only files its rerun knows as its own.

    outputs.check(out, ["generated.txt"], RECORD, "generate")  # before TensorFlow loads; changes nothing
    with outputs.Outputs(out, RECORD, "generate") as outs:       # locks `out`, reads the record
        outs.claim(names)                                        # refuses whatever is in the way
        outs.write_text("generated.txt", text)                   # or draw into outs.scratch / NAME, then outs.place(NAME)
        outs.finish({"recipe": "music_lstm"})                    # removes its stale files, writes the record
"""

import contextlib
import errno
import json
import os
import pathlib
import shutil
import stat
import tempfile

from zoo import errors, files

_FOLDER_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


def check(folder, names, record, command: str) -> set:
    """Refuses, changing nothing, what `command` may not write into `folder`; returns the files it owns there.

    Args:
        folder: the output folder (it need not exist yet).
        names: paths, relative to `folder`, that the command is about to write.
        record: the name of the command's record file in `folder`, or None for a
            command that never replaces a file.
        command: the command's name, for the messages.

    Returns:
        The paths the record lists (not the record itself): files the command may
        replace or remove.

    Raises:
        errors.UserError: the record is not one of the command's, or lists a path
            outside the folder or through a symbolic link; or a name is a link, or
            is taken by a file (or folder) the command did not write.
    """
    folder = pathlib.Path(folder)
    for name in names:
        if not _inside(name):
            raise ValueError(f"{command} would write {name!r}, which is not a path inside its folder.")  # A bug of ours.
    if not os.path.lexists(folder):
        return set()
    if not folder.is_dir():
        raise errors.UserError(f"--out {str(folder)!r} is a file, not a folder; pass another --out.")
    ours = _read_record(folder, record, command) if record else set()
    for name in sorted(ours):
        _inspect(folder, name, command, listed_in=folder / record)
    in_the_way = []
    for name in names:
        status = _inspect(folder, name, command)
        if status is None:
            continue
        if record is None:
            kind = "folder" if stat.S_ISDIR(status.st_mode) else "file"
            raise errors.UserError(
                f"{folder / name} already exists; {command} never replaces a {kind}. Move it aside or pass another --out."
            )
        if name not in ours | {record} or not stat.S_ISREG(status.st_mode):
            in_the_way.append(name)
    if in_the_way:
        raise errors.UserError(
            f"--out {str(folder)!r} already has {', '.join(in_the_way[:3])}, which {command} did not write "
            f"(its {record} does not list it); nothing was changed. Pass another --out."
        )
    return ours


class Outputs:
    """The output folder of one command call, held (locked) for the `with` block.

    Args:
        folder: the output folder; created if needed.
        record: the record file's name in it (None: the command never replaces a
            file, and keeps no record).
        command: the command's name, for the messages.
        keeps_earlier: a call adds to what earlier calls wrote (attention: one PNG
            per --out) instead of replacing it, so their files stay listed.
    """

    def __init__(self, folder, record, command: str, keeps_earlier: bool = False):
        self.folder = pathlib.Path(folder)
        self.record = record
        self.command = command
        self.keeps_earlier = keeps_earlier
        self.ours = set()
        self.names = set()
        self.written = []
        self._scratch = None
        self._stack = None

    def __enter__(self):
        self._stack = contextlib.ExitStack()
        self._stack.enter_context(files.owned(self.folder, "out folder"))
        try:
            self.ours = check(self.folder, [], self.record, self.command)
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc_info):
        try:
            if self._scratch is not None:
                shutil.rmtree(self._scratch, ignore_errors=True)
        finally:
            self._stack.close()
        return False

    @property
    def scratch(self) -> pathlib.Path:
        """A fresh folder of this call's own inside the output folder: draw a file here, then `place` it."""
        if self._scratch is None:
            self._scratch = pathlib.Path(tempfile.mkdtemp(prefix=".tmp-", dir=self.folder))
        return self._scratch

    def claim(self, names) -> None:
        """Checks `names` (see `check`) and lists them in the record before any of them is written."""
        names = list(names)
        self.ours = check(self.folder, names, self.record, self.command)
        self.names = set(names) - {self.record}
        if self.record:
            self._write_record({"files": sorted(self.ours | self.names), "complete": False})

    def write_text(self, name: str, text: str) -> pathlib.Path:
        return self.write_bytes(name, text.encode("utf-8"))

    def write_bytes(self, name: str, data: bytes) -> pathlib.Path:
        """Writes `data` as the claimed file `name`, atomically; returns its path."""
        self._scratch_write(name, data)
        return self.place(name)

    def place(self, name: str) -> pathlib.Path:
        """Moves scratch/NAME (a file, or for a command without a record a folder) into the output folder."""
        if name not in self.names:
            raise ValueError(f"{self.command} places {name!r}, which it did not claim.")  # A bug of ours.
        source = self.scratch / name
        with self._parent(name) as (parent, base):
            current = _lstat(base, parent)
            if current is not None and stat.S_ISLNK(current.st_mode):
                raise _link_error(self.folder / name, self.command, self.folder)
            if self.record is None:
                _move_exclusive(source, base, parent, self.folder / name, self.command)
            else:
                if current is not None and (name not in self.ours or not stat.S_ISREG(current.st_mode)):
                    raise errors.UserError(
                        f"--out {str(self.folder)!r} now has {name}, which {self.command} did not write; pass another --out."
                    )
                os.replace(source, base, dst_dir_fd=parent)
        self.written.append(name)
        return self.folder / name

    def finish(self, fields=None) -> list:
        """Removes the files of earlier calls not written again (unless `keeps_earlier`) and writes the record.

        Returns the files the record lists.
        """
        if not self.record:
            return list(self.written)
        earlier = sorted(self.ours - set(self.written))
        if self.keeps_earlier:
            kept = [name for name in earlier if self._exists(name)]
        else:
            for name in earlier:
                self._remove(name)
            kept = []
        files = [*self.written, *kept]
        self._write_record({**(fields or {}), "files": files})
        return files

    # --------------------------------------------------------------- helpers

    def _scratch_write(self, name: str, data: bytes) -> None:
        path = self.scratch / name
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o666)
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(data)

    def _write_record(self, value: dict) -> None:
        self._scratch_write(self.record, (json.dumps(value, indent=2) + "\n").encode("utf-8"))
        with self._parent(self.record) as (parent, base):
            current = _lstat(base, parent)
            if current is not None and not stat.S_ISREG(current.st_mode):
                raise _link_error(self.folder / self.record, self.command, self.folder)
            os.replace(self.scratch / self.record, base, dst_dir_fd=parent)

    def _exists(self, name: str) -> bool:
        try:
            with self._parent(name, create=False) as (parent, base):
                current = _lstat(base, parent)
        except FileNotFoundError:
            return False
        return current is not None and stat.S_ISREG(current.st_mode)

    def _remove(self, name: str) -> None:
        try:
            with self._parent(name, create=False) as (parent, base):
                current = _lstat(base, parent)
                if current is None:
                    return
                if stat.S_ISLNK(current.st_mode):
                    raise _link_error(self.folder / name, self.command, self.folder)
                if stat.S_ISREG(current.st_mode):
                    os.unlink(base, dir_fd=parent)
        except FileNotFoundError:
            return  # Its folder is gone: so is the file.

    @contextlib.contextmanager
    def _parent(self, name: str, create: bool = True):
        """(descriptor of NAME's folder, NAME's last part), its folders opened (and made) without following a link."""
        parts = pathlib.PurePosixPath(name).parts
        descriptors = [os.open(self.folder, os.O_RDONLY | os.O_DIRECTORY)]
        try:
            for index, part in enumerate(parts[:-1]):
                if create:
                    with contextlib.suppress(FileExistsError):
                        os.mkdir(part, dir_fd=descriptors[-1])
                try:
                    descriptors.append(os.open(part, _FOLDER_FLAGS, dir_fd=descriptors[-1]))
                except OSError as error:
                    if error.errno not in (errno.ELOOP, errno.ENOTDIR):
                        raise
                    where = self.folder.joinpath(*parts[: index + 1])
                    if os.path.islink(where):
                        raise _link_error(where, self.command, self.folder) from None
                    raise errors.UserError(
                        f"{where} is not a folder, so {self.command} cannot write {name} there; nothing of it was "
                        "replaced. Move it aside or pass another --out."
                    ) from None
            yield descriptors[-1], parts[-1]
        finally:
            for descriptor in descriptors:
                os.close(descriptor)


def _move_exclusive(source: pathlib.Path, base: str, parent: int, target: pathlib.Path, command: str) -> None:
    """Moves `source` to `base` in the folder `parent`, failing if anything (even a dangling link) is there."""
    kind = "folder" if source.is_dir() else "file"
    try:
        if kind == "folder":
            os.mkdir(base, dir_fd=parent)  # Claims the name (as O_EXCL would); the rename below replaces this empty folder.
            os.replace(source, base, dst_dir_fd=parent)
        else:
            os.link(source, base, dst_dir_fd=parent)  # Fails on any existing name, as O_EXCL does.
            os.unlink(source)
    except FileExistsError:
        raise errors.UserError(
            f"{target} already exists; {command} never replaces a {kind}. Move it aside or pass another --out."
        ) from None


def _lstat(base: str, parent: int):
    """lstat of `base` in the folder `parent`, or None if there is nothing of that name."""
    try:
        return os.stat(base, dir_fd=parent, follow_symlinks=False)
    except FileNotFoundError:
        return None


def _read_record(folder: pathlib.Path, record: str, command: str) -> set:
    """The paths `folder/record` lists (set()) when there is no record yet."""
    path = folder / record
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return set()
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise _link_error(path, command, folder) from None
        raise errors.UserError(f"{path} cannot be read ({error.strerror}); pass another --out.") from None
    with os.fdopen(descriptor, "rb") as stream:
        data = stream.read()
    saved = files.parse_json(data, path, f"it is not a record of {command}'s; pass another --out")  # Cut, deep, not UTF-8.
    listed = saved.get("files")
    if not isinstance(listed, list):
        raise errors.UserError(f"{path} is not a record of {command} (its \"files\" is not a list); pass another --out.")
    outside = sorted(repr(name) for name in listed if not isinstance(name, str) or not _inside(name))
    if outside:
        raise errors.UserError(
            f"{path} lists {outside[0]}, which is not a file inside {folder}; it is not a record of "
            f"{command}'s; nothing was changed. Pass another --out."
        )
    return set(listed)


def _inspect(folder: pathlib.Path, name: str, command: str, listed_in=None):
    """lstat of folder/NAME, or None if absent; a UserError if it, or a folder on the way, is a link."""
    parts = pathlib.PurePosixPath(name).parts
    for index in range(len(parts)):
        path = folder.joinpath(*parts[: index + 1])
        try:
            status = os.lstat(path)
        except FileNotFoundError:
            return None
        except NotADirectoryError:
            status = None
        if status is not None and stat.S_ISLNK(status.st_mode):
            raise _link_error(path, command, folder, listed_in, name)
        last = index == len(parts) - 1
        if last:
            return status
        if status is None or not stat.S_ISDIR(status.st_mode):
            raise errors.UserError(
                f"{path} is not a folder, so {command} cannot write {name} there; nothing was changed. "
                "Move it aside or pass another --out."
            )
    return None


def _link_error(path, command: str, folder, listed_in=None, name=None) -> errors.UserError:
    if listed_in is not None:
        return errors.UserError(
            f"{listed_in} lists {name!r}, but {path} is a symbolic link; {command} never deletes or writes through "
            f"a link (it may point outside {folder}); nothing was changed. Remove the link or pass another --out."
        )
    return errors.UserError(
        f"{path} is a symbolic link; {command} never writes through a link (it may point outside {folder}); "
        "nothing was changed. Remove the link or pass another --out."
    )


def _inside(name: str) -> bool:
    """A relative path that stays inside its folder (no absolute path, no `..`, no `.` part)."""
    path = pathlib.PurePosixPath(name)
    return bool(name) and not path.is_absolute() and ".." not in path.parts and "\\" not in name and str(path) == name
