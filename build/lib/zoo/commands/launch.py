"""`python -m zoo launch --workers N COMMAND ...`: one command on N local worker processes.

    python -m zoo launch --workers 2 train digits_mlp max_steps=40 --workdir runs/two_workers
    python -m zoo launch --workers 2 tune digits_mlp --trials 4 --workdir runs/search

For `train` (and the other commands that train), each process gets a
`TF_CONFIG` naming the same localhost cluster with its own task index, so the
trainer runs under `tf.distribute.MultiWorkerMirroredStrategy`: worker 0 is
the chief and writes the run directory, the others only compute. For `tune`,
keras-tuner's own distributed mode: one chief process holds the oracle
(`KERASTUNER_TUNER_ID=chief`) and the N workers ask it for trials.

The chief's output streams to this terminal (its stderr too: its one-line
error, or the traceback of a bug); each other process's goes to a log file
whose path is printed if it fails. Ctrl-C is forwarded to every process. When
one process fails, the others are stopped and the launcher exits with its
code: after the chief's own one-line error (2 for a mistake in the command, 1
for a fault such as a worker that never joined) it adds nothing; otherwise it
says which process was lost. Each process waits at most --join-timeout seconds
(default 30) for the others to join the cluster, then names the missing ones.

On real machines run the same command on every host, each with a `TF_CONFIG`
that lists all the hosts and gives its own index, and the same --workdir on
shared storage (README, "Several machines").
"""

import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

from zoo.engine import cluster
from zoo import errors

POLL_SECONDS = 0.2
STOP_GRACE_SECONDS = 10
# When a worker fails first, how long the chief has to fail too and say why on the terminal.
CHIEF_GRACE_SECONDS = 5


def add_command(subparsers) -> None:
    parser = subparsers.add_parser("launch", help="run a command on N local worker processes (multi-worker training, distributed tune)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument(
        "--join-timeout", type=float, default=cluster.JOIN_TIMEOUT_SECONDS, metavar="SECONDS",
        help=f"how long each process waits for the others to join the cluster (default {cluster.JOIN_TIMEOUT_SECONDS:g})",
    )
    parser.add_argument("command", nargs="...", help="the zoo command and its arguments, e.g. train digits_mlp max_steps=40")
    parser.set_defaults(run=run_launch)


def free_ports(count: int) -> list:
    """`count` distinct free TCP ports on 127.0.0.1 (bound, read and released)."""
    sockets = []
    try:
        for _ in range(count):
            stream = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            stream.bind(("127.0.0.1", 0))
            sockets.append(stream)
        return [stream.getsockname()[1] for stream in sockets]
    finally:
        for stream in sockets:
            stream.close()


def environments(command: str, workers: int) -> list:
    """(name, environment) of every process to start; the first one's output is streamed."""
    base = {key: value for key, value in os.environ.items() if key not in ("TF_CONFIG",) and not key.startswith("KERASTUNER_")}
    if command == "tune":
        (port,) = free_ports(1)
        oracle = {"KERASTUNER_ORACLE_IP": "127.0.0.1", "KERASTUNER_ORACLE_PORT": str(port)}
        chief = ("the tuner chief (oracle)", {**base, **oracle, "KERASTUNER_TUNER_ID": "chief"})
        return [chief] + [(f"tuner worker {index}", {**base, **oracle, "KERASTUNER_TUNER_ID": f"tuner{index}"}) for index in range(workers)]
    addresses = [f"127.0.0.1:{port}" for port in free_ports(workers)]
    return [
        (f"worker {index}" + (" (chief)" if index == 0 else ""),
         {**base, "TF_CONFIG": json.dumps({"cluster": {"worker": addresses}, "task": {"type": "worker", "index": index}})})
        for index in range(workers)
    ]


def run_launch(args) -> int:
    if not args.command:
        raise errors.UserError("launch needs a command to run, e.g. `python -m zoo launch --workers 2 train digits_mlp`.")
    if args.command[0] == "launch":
        raise errors.UserError("launch cannot launch itself; give the command to run, e.g. train digits_mlp.")
    if not 1 <= args.workers <= 64:
        raise errors.UserError(f"--workers {args.workers} is not valid; expected an int in [1, 64]; pass e.g. --workers 2.")
    if not 0 < args.join_timeout < float("inf"):
        raise errors.UserError(f"--join-timeout {args.join_timeout:g} is not valid; expected seconds > 0; pass e.g. --join-timeout 30.")
    logs = pathlib.Path(tempfile.mkdtemp(prefix="zoo-launch-"))
    processes = []
    for index, (name, environment) in enumerate(environments(args.command[0], args.workers)):
        argv = [sys.executable, "-m", "zoo", *args.command]
        environment[cluster.JOIN_TIMEOUT_VARIABLE] = f"{args.join_timeout:g}"
        if index == 0:  # Its stderr is ours (the real one: zoo/__main__.py filters only native lines).
            process = subprocess.Popen(argv, env=environment, stderr=subprocess.PIPE)
            process.tail = _Tail(process.stderr)
        else:
            log = logs / f"{name.split(' (')[0].replace(' ', '_')}.log"
            with open(log, "w") as stream:
                process = subprocess.Popen(argv, env=environment, stdout=stream, stderr=subprocess.STDOUT)
            process.log = log
        process.label = name
        processes.append(process)
    try:
        return _wait(processes)
    except KeyboardInterrupt:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process in processes:
            process.wait()
        return 130
    finally:
        processes[0].tail.join(timeout=STOP_GRACE_SECONDS)


class _Tail(threading.Thread):
    """Copies the chief's stderr to ours as it comes, and keeps its last line."""

    def __init__(self, stream):
        super().__init__(daemon=True)
        self.stream = stream
        self.last = b""
        self.start()

    def run(self):
        fd, target = self.stream.fileno(), sys.stderr
        target.flush()
        while chunk := os.read(fd, 65536):
            written = 0
            while written < len(chunk):
                written += os.write(target.fileno(), chunk[written:])
            lines = (self.last + chunk).splitlines()
            self.last = (lines or [b""])[-1][-4096:]
        self.stream.close()

    def error_line(self) -> bool:
        """Whether the chief ended with one line of its own, `error: ...` (it said what went wrong)."""
        self.join(timeout=STOP_GRACE_SECONDS)  # Its end: the chief's last byte (its stderr filter may outlive it briefly).
        return self.last.startswith(b"error: ")


def _last_error(log) -> str:
    """The `error: ...` line a worker ended its log with, without the prefix; '' when it ended otherwise."""
    try:
        lines = pathlib.Path(log).read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1].removeprefix("error: ") if lines and lines[-1].startswith("error: ") else ""


def _wait(processes) -> int:
    """Waits for every process; when one fails, stops the rest and says which one was lost.

    The chief's own line (a user's mistake, exit 2, or a fault it names, such as
    a worker that never joined) is the whole story: nothing is added to it. A
    worker's one line is repeated from its log, naming the worker. Otherwise
    (a traceback, a signal) the launcher names the process that was lost.
    """
    chief = processes[0]
    while True:
        failed = [process for process in processes if process.poll() not in (None, 0)]
        if failed and chief not in failed:
            # The workers run the same command: the chief likely fails the same way, and says it on our terminal.
            try:
                chief.wait(timeout=CHIEF_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                pass
            failed = [process for process in processes if process.poll() not in (None, 0)]
        if failed:
            lost = chief if chief in failed else failed[0]
            _stop(processes)
            code = lost.returncode if lost.returncode > 0 else 1
            if lost is chief and chief.tail.error_line():
                return code
            who = f"{lost.label[:-1]}, pid {lost.pid})" if lost.label.endswith(")") else f"{lost.label} (pid {lost.pid})"
            log = f" (its output: {lost.log})" if hasattr(lost, "log") else ""
            said = _last_error(lost.log) if hasattr(lost, "log") else ""
            if said:
                message = f"{who} failed: {said}; the others were stopped{log}."
            elif lost.returncode < 0:
                message = (
                    f"{who} was killed by signal {_signal_name(-lost.returncode)}, so the others were stopped{log}. "
                    "Rerun the same launch command to resume from the last checkpoint."
                )
            else:
                message = f"{who} exited with code {lost.returncode}, so the others were stopped{log or ' (its output is above)'}."
            print(f"error: {message}", file=sys.stderr, flush=True)
            return code
        if all(process.poll() == 0 for process in processes):
            return 0
        time.sleep(POLL_SECONDS)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)


def _stop(processes) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for process in processes:
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
