"""Real processes of the zoo's command line for the tests, without paying TensorFlow's start-up each time.

A test that must SIGKILL a run, or run two workers of a cluster side by side,
needs processes of its own. Started with `python -m zoo`, each pays the
interpreter and `import tensorflow` first: 9-13 s of CPU on the 2-core test
machine, more than most of these runs train. So one server process per pytest
worker imports TensorFlow, Keras and the zoo once, touches nothing else (no op
runs, no device is listed: TensorFlow's runtime starts only in each child), and
forks a child per command:

    process = forks.start("zoo", ["train", "digits_mlp", "--workdir", str(run)], env=environment)
    process.kill(); process.wait(timeout=60)          # Popen's names and meanings.
    completed = forks.run("tests.kill_at", ["step:7", "train", ...])   # subprocess.run's.

Each child is an ordinary process: its own pid, files and exit status; a
SIGKILL kills it where it stands. It runs `python -m MODULE ARGS` as that
would (`main(args)`, in `cwd`, with exactly `env`), with stdout and stderr in
FIFOs the caller reads to their end. `zoo launch` run this way
(`start("zoo", ["launch", ...], fork_workers=True)`) is the real launcher in a
child of its own, and its workers are real processes too: `subprocess.Popen`
of `python -m zoo ...` forks that child instead of starting a new interpreter
(`ForkedPopen`), with the pipes, signals and exit codes of Popen itself.

What a forked child cannot show is anything about start-up itself (which lines
TensorFlow prints while it loads, how long a command takes before it does): the
tests of those start `python -m zoo` for real. TensorFlow reads TF_CPP_MIN_LOG_LEVEL and CUDA_VISIBLE_DEVICES as it
loads, so a child's `env` must carry the server's values of both (SERVER_ENV).
"""

import atexit
import importlib
import json
import os
import pathlib
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import traceback

ROOT = pathlib.Path(__file__).resolve().parent.parent
SERVER_ENV = {"TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
MODULES = ("zoo", "tests.kill_at")  # What a child may run: `python -m` of these, through their main(argv).


# ------------------------------------------------------------------ the server (python -m tests.forks)


def _main_of(module: str):
    return importlib.import_module("zoo.commands.cli" if module == "zoo" else module).main


def _run_as_python_m(module: str, args) -> int:
    """In a forked child: what `python -m MODULE ARGS` does after start-up; returns the exit code."""
    sys.argv = [module, *args]
    try:
        if module == "zoo":  # As `python -m zoo` starts: TensorFlow's C++ notes filtered out of stderr.
            from absl import logging

            from zoo import __main__ as entry

            entry._filter_native_stderr()
            # absl's handler writes where `python -m zoo`'s does: created after the filter, to its stderr.
            logging.get_absl_handler().python_handler.stream = sys.stderr
        code = _main_of(module)(list(args))
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        if not isinstance(exit_.code, (int, type(None))):
            print(exit_.code, file=sys.stderr)
    except BaseException:  # noqa: BLE001 - Python's own exit path: the traceback on stderr, status 1.
        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    return code if isinstance(code, int) else 1


class ForkedPopen(subprocess.Popen):
    """subprocess.Popen whose `python -m zoo ...` child is a fork of this process, not a new interpreter.

    Only the start differs: Popen has made the child's pipes (stdin, stdout, stderr) as
    it always does, the fork puts them on fds 0-2 as exec would, and everything after
    (poll, wait, send_signal, the pipes' ends) is Popen's own on a real child. Any
    other command line is started for real.
    """

    def _execute_child(self, args, executable, preexec_fn, close_fds, pass_fds, cwd, env, startupinfo, creationflags,
                       shell, p2cread, p2cwrite, c2pread, c2pwrite, errread, errwrite, *rest):
        argv = list(args) if not isinstance(args, (str, bytes)) else [args]
        if shell or executable or argv[:3] != [sys.executable, "-m", "zoo"]:
            return super()._execute_child(args, executable, preexec_fn, close_fds, pass_fds, cwd, env, startupinfo,
                                          creationflags, shell, p2cread, p2cwrite, c2pread, c2pwrite, errread, errwrite, *rest)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                for fd, target in ((0, p2cread), (1, c2pwrite), (2, errwrite)):
                    if target != -1:
                        os.dup2(target, fd)
                keep = sorted({0, 1, 2, *pass_fds})  # close_fds, as exec would leave it.
                for low, high in zip(keep, [*keep[1:], os.sysconf("SC_OPEN_MAX")]):
                    os.closerange(low + 1, high)
                if cwd is not None:
                    os.chdir(cwd)
                if env is not None:
                    os.environ.clear()
                    os.environ.update(env)
                code = _run_as_python_m("zoo", argv[3:])
            finally:
                os._exit(code)
        self.pid = pid
        self._child_created = True
        self._close_pipe_fds(p2cread, p2cwrite, c2pread, c2pwrite, errread, errwrite)


def _child(request: dict) -> None:
    """In the forked child: becomes `python -m MODULE ARGS` and never returns."""
    code = 1
    try:
        for fd, path in ((1, pathlib.Path(request["out"]) / "stdout"), (2, pathlib.Path(request["out"]) / "stderr"), (0, os.devnull)):
            opened = os.open(path, os.O_RDONLY if fd == 0 else os.O_WRONLY)  # Stdout and stderr: the caller's FIFOs.
            os.dup2(opened, fd)
            os.close(opened)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        if request.get("fork_workers"):  # `zoo launch`'s workers: forks of this child (ForkedPopen).
            subprocess.Popen = ForkedPopen
        code = _run_as_python_m(request["module"], request["args"])
    except BaseException:  # noqa: BLE001 - a failure before the command ran (cwd gone, say): said on its stderr.
        traceback.print_exc()
        sys.stderr.flush()
    finally:
        os._exit(code)


def serve() -> None:
    """Imports what the children share, then forks one child per request line on stdin."""
    from absl import logging

    # As in `python -m zoo`, absl's handler is on the root logger before TensorFlow loads; else
    # TensorFlow would give its own logger a handler of its own (tf_logging.get_logger).
    logging.use_absl_handler()
    for module in MODULES:
        _main_of(module)
    reply = sys.stdout
    print(json.dumps({"ready": os.getpid()}), file=reply, flush=True)
    children = {}  # pid -> request id
    open_, pending = True, b""
    while open_ or children:
        if open_:
            readable, _, _ = select.select([0], [], [], 0.05)
            if readable:  # Read from the fd itself: a buffered readline could hold a second request back.
                chunk = os.read(0, 65536)
                if not chunk:
                    open_ = False
                    for pid in children:  # The tests are gone: nothing waits for these any more.
                        os.kill(pid, signal.SIGKILL)
                *lines, pending = (pending + chunk).split(b"\n")
                for line in lines:
                    request = json.loads(line)
                    sys.stdout.flush()
                    sys.stderr.flush()
                    pid = os.fork()
                    if pid == 0:
                        _child(request)
                    children[pid] = request["id"]
                    print(json.dumps({"id": request["id"], "pid": pid}), file=reply, flush=True)
        else:
            select.select([], [], [], 0.05)
        while children:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                break
            returncode = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
            print(json.dumps({"id": children.pop(pid), "returncode": returncode}), file=reply, flush=True)


# ------------------------------------------------------------------ the client, in the tests


class Process:
    """A forked `python -m MODULE ARGS`, with the part of subprocess.Popen the tests use."""

    def __init__(self, out: pathlib.Path):
        self._out = out
        self._started, self._ended = threading.Event(), threading.Event()
        self.pid = self.returncode = None
        self.stdout = self.stderr = None  # Text, once it has ended.
        # As with Popen's pipes, the output is whole only when every writer has closed it (the
        # zoo's stderr filter outlives its process): each stream is a FIFO read to its end.
        self._readers = []
        for name in ("stdout", "stderr"):
            os.mkfifo(out / name)
            reader = threading.Thread(target=self._read, args=(name,), daemon=True)
            reader.start()
            self._readers.append(reader)

    def _read(self, name: str) -> None:
        with open(self._out / name, "rb") as stream:
            setattr(self, name, stream.read().decode(errors="replace"))

    def _finish(self, returncode: int) -> None:
        for reader in self._readers:
            reader.join()
        self.returncode = returncode
        shutil.rmtree(self._out, ignore_errors=True)
        self._ended.set()

    def poll(self):
        return self.returncode if self._ended.is_set() else None

    def wait(self, timeout=None) -> int:
        if not self._ended.wait(timeout):
            raise subprocess.TimeoutExpired(self._out.name, timeout)
        return self.returncode

    def communicate(self, timeout=None) -> tuple:
        self.wait(timeout)
        return self.stdout, self.stderr

    def kill(self) -> None:
        if not self._ended.is_set():
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


class _Server:
    def __init__(self):
        env = {**os.environ, **SERVER_ENV, "PYTHONPATH": str(ROOT)}
        self.process = subprocess.Popen([sys.executable, "-m", "tests.forks"], cwd=ROOT, env=env, text=True,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        first = self.process.stdout.readline()
        if not first.startswith('{"ready"'):
            raise RuntimeError(f"the fork server did not start (exit code {self.process.wait()})")
        self.lock, self.count, self.waiting = threading.Lock(), 0, {}
        threading.Thread(target=self._read, daemon=True).start()
        atexit.register(self.process.stdin.close)

    def _read(self) -> None:
        for line in self.process.stdout:
            message = json.loads(line)
            process = self.waiting[message["id"]]
            if "pid" in message:
                process.pid = message["pid"]
                process._started.set()
            else:
                del self.waiting[message["id"]]
                threading.Thread(target=process._finish, args=(message["returncode"],), daemon=True).start()

    def start(self, module, args, cwd, env, fork_workers) -> Process:
        with self.lock:
            self.count += 1
            process = Process(pathlib.Path(tempfile.mkdtemp(prefix="fork_")))
            self.waiting[self.count] = process
            request = {"id": self.count, "module": module, "args": list(args), "cwd": str(cwd), "env": env, "out": str(process._out),
                       "fork_workers": fork_workers}
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
        if not process._started.wait(60):
            raise RuntimeError("the fork server did not answer")
        return process


_server = None
_server_lock = threading.Lock()


def start(module: str, args, cwd=ROOT, env=None, fork_workers=False) -> Process:
    """`python -m MODULE ARGS` as a forked child (see the module docstring); returns at once.

    fork_workers: the child's own `subprocess.Popen` of `python -m zoo ...` forks it (ForkedPopen).
    """
    global _server
    if module not in MODULES:
        raise ValueError(f"{module!r} cannot be forked; use one of {MODULES} or a real subprocess")
    env = dict(os.environ if env is None else env)
    differs = {key: env.get(key) for key, value in SERVER_ENV.items() if env.get(key) != value}
    if differs:
        raise ValueError(f"a forked child keeps the server's {SERVER_ENV}, not {differs}; use a real subprocess")
    with _server_lock:
        if _server is None or _server.process.poll() is not None:
            _server = _Server()
    return _server.start(module, args, cwd, env, fork_workers)


def run(module: str, args, cwd=ROOT, env=None, timeout=None, fork_workers=False) -> subprocess.CompletedProcess:
    """Like subprocess.run(..., capture_output=True, text=True), through `start`."""
    process = start(module, args, cwd, env, fork_workers)
    try:
        process.wait(timeout)
    finally:
        process.kill()
    process.wait()
    return subprocess.CompletedProcess([module, *args], process.returncode, process.stdout, process.stderr)


if __name__ == "__main__":
    serve()
