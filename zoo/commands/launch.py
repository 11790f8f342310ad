"""`python -m zoo launch --workers N COMMAND ...`: one command on N local worker processes.

    python -m zoo launch --workers 2 train digits_mlp max_steps=40 --workdir runs/two_workers
    python -m zoo launch --workers 2 tune digits_mlp --trials 4 --workdir runs/search

For `train` (and the other commands that train), each process gets a
`TF_CONFIG` naming the same localhost cluster with its own task index, so the
trainer runs under `tf.distribute.MultiWorkerMirroredStrategy`: worker 0 is
the chief and writes the run directory, the others only compute. For `tune`,
keras-tuner's own distributed mode: one chief process holds the oracle
(`KERASTUNER_TUNER_ID=chief`) and the N workers ask it for trials.

The chief's output streams to this terminal; each other process's goes to a
log file whose path is printed if it fails. Ctrl-C is forwarded to every
process. When one process fails, the others are stopped and the launcher says
which one was lost; it exits with the first failure's code.

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
import time

from zoo import errors

POLL_SECONDS = 0.2
STOP_GRACE_SECONDS = 10


def add_command(subparsers) -> None:
    parser = subparsers.add_parser("launch", help="run a command on N local worker processes (multi-worker training, distributed tune)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
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
    logs = pathlib.Path(tempfile.mkdtemp(prefix="zoo-launch-"))
    processes = []
    for index, (name, environment) in enumerate(environments(args.command[0], args.workers)):
        argv = [sys.executable, "-m", "zoo", *args.command]
        if index == 0:
            process = subprocess.Popen(argv, env=environment)
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


def _wait(processes) -> int:
    """Waits for every process; when one fails, stops the rest and says which one was lost."""
    while True:
        failed = [process for process in processes if process.poll() not in (None, 0)]
        if failed:
            lost = failed[0]
            _stop(processes)
            where = f"; its output: {lost.log}" if hasattr(lost, "log") else ""
            print(
                f"error: {lost.label} (pid {lost.pid}) exited with code {lost.returncode}, so the others were "
                f"stopped{where}. Rerun the same launch command to resume from the last checkpoint.",
                file=sys.stderr, flush=True,
            )
            return lost.returncode if lost.returncode > 0 else 1
        if all(process.poll() == 0 for process in processes):
            return 0
        time.sleep(POLL_SECONDS)


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
