"""The cluster that `TF_CONFIG` names: read strictly, and joined within a bounded time.

    spec = cluster.from_environment()     # None without TF_CONFIG; a UserError for a bad one
    cluster.join()                        # once per process, before MultiWorkerMirroredStrategy is made

Without TensorFlow, so that a bad `TF_CONFIG` is refused before TensorFlow loads.

`wait_for_peers` is a rendezvous on the cluster's own addresses: each process
listens on its own address, connects to every other one and says which task it
is, and goes on once it has reached every peer and every peer has reached it.
Then no peer needs its listener any more, so it closes it and TensorFlow binds
the same port. A peer that does not start (or never gets this far) ends the
wait after `ZOO_JOIN_TIMEOUT` seconds (default JOIN_TIMEOUT_SECONDS) with one
line naming its task and address, instead of TensorFlow waiting in silence.
"""

import dataclasses
import errno
import json
import os
import socket
import time

from zoo import errors

# How long a process waits for the other tasks of its cluster before it gives up.
JOIN_TIMEOUT_SECONDS = 30.0
JOIN_TIMEOUT_VARIABLE = "ZOO_JOIN_TIMEOUT"
# The jobs whose tasks take part in MultiWorkerMirroredStrategy's collectives.
TRAINING_JOBS = ("chief", "worker")
RETRY_SECONDS = 0.1
HELP = "see the README's 'Several machines'"


@dataclasses.dataclass(frozen=True)
class Spec:
    """A checked TF_CONFIG: every job's addresses, and this process's task."""

    jobs: dict  # job name -> list of "host:port"
    task_type: str
    task_index: int

    @property
    def size(self) -> int:
        """Workers (and chief) in the cluster."""
        return sum(len(self.jobs.get(job, [])) for job in TRAINING_JOBS)

    @property
    def address(self) -> str:
        return self.jobs[self.task_type][self.task_index]

    def peers(self) -> dict:
        """'worker 1' -> address, for every other task that trains."""
        return {
            f"{job} {index}": address
            for job in TRAINING_JOBS
            for index, address in enumerate(self.jobs.get(job, []))
            if (job, index) != (self.task_type, self.task_index)
        }


def _refuse(field: str, problem: str):
    raise errors.UserError(f"TF_CONFIG {field} {problem}; {HELP}.")


def _check_address(job: str, index: int, address) -> None:
    field = f'"cluster"."{job}"[{index}]'
    if not isinstance(address, str):
        _refuse(field, f"is {address!r}, not a host:port string")
    host, colon, port = address.rpartition(":")
    if not colon or not host.strip("[]") or not port.isdigit() or not 0 < int(port) < 65536:
        _refuse(field, f"is {address!r}, not host:port (a host name or IP, a colon, a port in [1, 65535])")


def parse(text: str) -> Spec:
    """The Spec of a TF_CONFIG string; a UserError naming the field that is wrong."""
    try:
        value = json.loads(text)
    except ValueError as error:
        _refuse("", f"is not JSON ({error})")
    if not isinstance(value, dict) or not isinstance(value.get("cluster"), dict):
        _refuse('"cluster"', "is missing or not an object of job name -> list of host:port")
    jobs = value["cluster"]
    for job, addresses in jobs.items():
        if not isinstance(addresses, list):
            _refuse(f'"cluster"."{job}"', f"is {addresses!r}, not a list of host:port")
        for index, address in enumerate(addresses):
            _check_address(job, index, address)
    if not any(jobs.get(job) for job in TRAINING_JOBS):
        _refuse('"cluster"', f"names no {' or '.join(TRAINING_JOBS)} task")
    task = value.get("task")
    total = sum(len(addresses) for addresses in jobs.values())
    if task is None and total == 1:  # One task: it is this one.
        (job,) = [job for job, addresses in jobs.items() if addresses]
        return Spec(jobs=jobs, task_type=job, task_index=0)
    if not isinstance(task, dict):
        _refuse('"task"', 'is missing or not an object like {"type": "worker", "index": 0}')
    task_type, index = task.get("type"), task.get("index", 0)
    if task_type not in jobs:
        _refuse('"task"."type"', f"is {task_type!r}, which is not a job of the cluster ({', '.join(map(repr, jobs))})")
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(jobs[task_type]):
        _refuse(
            '"task"."index"',
            f"is {index!r}, outside the cluster's {len(jobs[task_type])} {task_type} task(s) "
            f"(expected an int in [0, {len(jobs[task_type]) - 1}])",
        )
    return Spec(jobs=jobs, task_type=task_type, task_index=index)


def from_environment():
    """The Spec of $TF_CONFIG, or None when it is unset or empty."""
    text = os.environ.get("TF_CONFIG", "")
    return parse(text) if text.strip() else None


def join_timeout() -> float:
    """Seconds to wait for the cluster's other tasks: $ZOO_JOIN_TIMEOUT, else JOIN_TIMEOUT_SECONDS."""
    text = os.environ.get(JOIN_TIMEOUT_VARIABLE, "")
    if not text:
        return JOIN_TIMEOUT_SECONDS
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds < float("inf"):
        raise errors.UserError(f"{JOIN_TIMEOUT_VARIABLE}={text} is not valid; expected a number of seconds > 0, e.g. 30.")
    return seconds


def _split(address: str):
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port)


def _listen(address: str) -> socket.socket:
    port = _split(address)[1]
    try:
        if socket.has_dualstack_ipv6():
            return socket.create_server(("", port), family=socket.AF_INET6, dualstack_ipv6=True)
        return socket.create_server(("", port))
    except OSError as error:
        raise OSError(
            error.errno,
            f"this process's TF_CONFIG address {address} cannot be listened on ({error.strerror or error}); "
            "free the port or give this task another one",
        ) from None


def wait_for_peers(spec: Spec, timeout: float | None = None) -> None:
    """Returns once every other task of the cluster is here; a TimeoutError naming the missing ones otherwise."""
    timeout = join_timeout() if timeout is None else timeout
    peers = spec.peers()
    if not peers or spec.task_type not in TRAINING_JOBS:  # An evaluator takes no part in the collectives.
        return
    me = f"{spec.task_type} {spec.task_index}"
    listener = _listen(spec.address)
    listener.settimeout(RETRY_SECONDS)
    reached, joined, last_error = set(), set(), {}
    deadline = time.monotonic() + timeout
    try:
        while not (reached == set(peers) and joined >= set(peers)):
            for name in sorted(set(peers) - reached):
                try:
                    with socket.create_connection(_split(peers[name]), timeout=RETRY_SECONDS * 5) as stream:
                        stream.sendall(me.encode() + b"\n")
                    reached.add(name)
                except OSError as error:
                    last_error[name] = error.strerror or str(error) or type(error).__name__
            try:
                connection, _ = listener.accept()
            except (TimeoutError, BlockingIOError, InterruptedError):
                connection = None
            if connection is not None:
                joined.add(_read_name(connection))
            if time.monotonic() > deadline and not (reached == set(peers) and joined >= set(peers)):
                missing = [name for name in peers if name not in reached or name not in joined]
                described = ", ".join(
                    f"{name} ({peers[name]}" + (f": {last_error[name]}" if name not in reached and name in last_error else "") + ")"
                    for name in missing
                )
                raise TimeoutError(
                    errno.ETIMEDOUT,
                    f"{described} of TF_CONFIG's cluster did not join within {timeout:g} s, so {me} gave up; start "
                    f"every task (the same command, each with its own TF_CONFIG task), or wait longer with "
                    f"{JOIN_TIMEOUT_VARIABLE}=SECONDS (launch: --join-timeout)",
                )
    finally:
        listener.close()


_JOINED = []  # The Spec this process has already met its peers for: a rendezvous happens once.


def join() -> None:
    """Meets the other tasks of $TF_CONFIG's cluster once per process (see wait_for_peers); nothing without one."""
    spec = from_environment()
    if spec is None or spec.size < 2 or spec in _JOINED:
        return
    wait_for_peers(spec)
    _JOINED.append(spec)


def _read_name(connection: socket.socket) -> str:
    """The task name a peer sent; read to its end, so that the peer closes first (no TIME_WAIT on our port)."""
    data = b""
    connection.settimeout(RETRY_SECONDS * 10)
    try:
        while len(data) < 256:
            chunk = connection.recv(256)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    finally:
        connection.close()
    return data.decode(errors="replace").strip()
