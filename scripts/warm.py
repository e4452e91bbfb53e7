"""Warm start: each job of a run executes in a fork of one process that has already imported the heavy libraries.

Every Snakemake ``script:`` job is a new Python process, and most jobs spend 0.5–3 s importing pandas, geopandas,
matplotlib, igraph, statsmodels and PySAL before their own work: 48 of the real run's 161 job-seconds, measured with
``PYTHONPROFILEIMPORTTIME`` (libpysal alone pulls in scikit-learn, SQLAlchemy and BeautifulSoup). So the Snakefile's
``onstart`` starts one *warm process* per run (:func:`start`), which imports those libraries once (:data:`PRELOAD`).
A job's process hands its ``snakemake`` object, working folder, environment, ``sys.path`` and standard streams to the
warm process over a Unix socket (:func:`hand_over`, the first statement of every ``scripts/rules`` entry point); a fork
of the warm process runs the job's ``main`` through :func:`scripts.common.run_rule`, exactly as the job's own process
would, and the job's process waits for the fork's exit status and exits with it.

Jobs stay jobs: Snakemake schedules, logs, checks and reruns them as before. A job runs cold, as without this module,
when its process cannot reach a warm process (a dry run, a cluster node, a warm process that failed to start), when it
asks for more than one thread (Snakemake sets the BLAS thread variables per job, and the warm process imported numpy
with one), or when ``CITYRES_WARM=0``. Only third-party libraries are preloaded, never the project's own modules: a
fork imports those fresh, so an edited script takes effect in the same run.

Under the warm start Snakemake's benchmark files time each job right (``s``), but their CPU, memory and I/O columns
count the waiting process only: measure those with ``CITYRES_WARM=0``.

Written here because no library does this: multiprocessing's forkserver serves only the process that started it.
"""
from __future__ import annotations

import importlib
import os
import pickle
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import traceback
from pathlib import Path
from typing import Any

SWITCH = "CITYRES_WARM"                 # "0" runs every job cold
SOCKET_VARIABLE = "CITYRES_WARM_SOCKET"  # set by start() for the jobs Snakemake launches
PROJECT = Path(__file__).resolve().parents[1]

# The third-party modules the jobs import (found with PYTHONPROFILEIMPORTTIME on a full real run). One missing here
# costs only its import time in the jobs that use it; one that fails to import is skipped.
PRELOAD = (
    "numpy", "pandas", "pyarrow.parquet", "pyarrow.dataset", "scipy.linalg", "scipy.optimize", "scipy.sparse",
    "scipy.sparse.linalg", "scipy.stats", "shapely", "geopandas", "matplotlib.pyplot",
    "matplotlib.backends.backend_pdf", "matplotlib.backends.backend_agg", "igraph", "statsmodels.api",
    "statsmodels.stats.multitest", "linearmodels", "linearmodels.iv", "libpysal", "libpysal.weights", "esda", "spreg",
    "python_calamine", "yaml", "snakemake.script",
)
# What Snakemake's shell sets for a one-thread job (snakemake/shell.py); the warm process imports numpy under these.
ONE_THREAD = {name: "1" for name in ("OMP_NUM_THREADS", "GOTO_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                                     "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")}
HEADER = struct.Struct("!Q")  # the request's length
ACCEPTED = b"\x01"  # a fork's acknowledgement: it runs the job
STATUS = struct.Struct("!i")  # the job's exit status

_server: subprocess.Popen | None = None


def start(log_path: str | Path) -> None:
    """Start the warm process for this run (Snakefile ``onstart``) and tell the jobs where it listens; its own
    messages go to ``log_path``. Does nothing when ``CITYRES_WARM=0``."""
    global _server
    if os.environ.get(SWITCH, "1") == "0" or _server is not None:
        return
    folder = tempfile.mkdtemp(prefix="cityres-warm-")  # private (0700): the socket accepts this user's jobs only
    socket_path = os.path.join(folder, "socket")
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w", encoding="utf-8") as log:
        _server = subprocess.Popen([sys.executable, "-m", "scripts.warm", socket_path], cwd=PROJECT,
                                   env={**os.environ, **ONE_THREAD, "MPLBACKEND": "Agg"}, stdin=subprocess.DEVNULL,
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    os.environ[SOCKET_VARIABLE] = socket_path


def stop() -> None:
    """Stop the warm process (Snakefile ``onsuccess`` and ``onerror``); it also stops by itself when Snakemake exits."""
    global _server
    socket_path = os.environ.pop(SOCKET_VARIABLE, None)
    if _server is not None:
        _server.terminate()
        _server.wait()
        _server = None
    if socket_path:
        shutil.rmtree(os.path.dirname(socket_path), ignore_errors=True)


def serve(socket_path: str) -> None:
    """The warm process: listen, import :data:`PRELOAD`, and fork one child per connecting job until Snakemake, its
    parent, exits or stops it. A job that connects while the imports go on is forked between two of them, with what is
    imported so far (numpy and pandas come first): the run's first jobs neither wait for the whole preload nor run
    cold."""
    parent = os.getppid()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the forks; their statuses go over the socket
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(socket_path)
        listener.listen(64)
        listener.setblocking(False)
        print(f"cityres warm start: process {os.getpid()} listening at {socket_path}", flush=True)
        for name in PRELOAD:
            try:
                importlib.import_module(name)
            except ImportError as err:
                print(f"cityres warm start: {name} not preloaded ({err})", flush=True)
            while _fork_for_next(listener):
                pass
        listener.settimeout(1.0)
        while os.getppid() == parent:
            _fork_for_next(listener)


def _fork_for_next(listener: socket.socket) -> bool:
    """Accept the next job's connection and fork a child to run it; False when no job is waiting (within the
    listener's timeout)."""
    try:
        connection, _ = listener.accept()
    except (BlockingIOError, TimeoutError):
        return False
    sys.stdout.flush()
    if os.fork() == 0:
        listener.close()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the job's own subprocesses need their statuses
        connection.setblocking(True)
        os._exit(_run_request(connection))
    connection.close()
    return True


def hand_over(namespace: dict[str, Any]) -> None:
    """Run this job in a fork of the warm process and exit with its status; return (and run cold) when there is no
    warm process to reach, the job wants more than one thread, or this is not a Snakemake job."""
    smk = namespace.get("snakemake")
    socket_path = os.environ.get(SOCKET_VARIABLE)
    if smk is None or not socket_path or os.environ.get(SWITCH) == "0" or smk.threads != 1:
        return
    try:
        module = ".".join(Path(namespace["__file__"]).resolve().relative_to(PROJECT).with_suffix("").parts)
    except ValueError:  # an entry point outside this project
        return
    request = pickle.dumps({"module": module, "snakemake": smk, "cwd": os.getcwd(), "env": dict(os.environ),
                            "path": list(sys.path)}, protocol=pickle.HIGHEST_PROTOCOL)
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:  # until a fork acknowledges the request nothing has run, and the job can still run cold
        connection.connect(socket_path)
        sys.stdout.flush()
        sys.stderr.flush()
        socket.send_fds(connection, [HEADER.pack(len(request))], [0, 1, 2])
        connection.sendall(request)
        _receive(connection, len(ACCEPTED))
    except (OSError, EOFError):
        connection.close()
        return
    try:
        status = STATUS.unpack(_receive(connection, STATUS.size))[0]
    except KeyboardInterrupt:  # Ctrl-C: the fork sees this process go and stops too
        status = 128 + signal.SIGINT
    except (OSError, EOFError) as err:
        print(f"cityres: the warm process running rule '{smk.rule}' ended without an exit status ({err}). Rerun; if it "
              f"happens again, run with {SWITCH}=0 and report it.", file=sys.stderr)
        status = 1
    sys.exit(status)


def _run_request(connection: socket.socket) -> int:
    """In a fork: take over the job's streams, folder, environment and path, run its entry point's ``main`` and send
    back the exit status."""
    header, fds, _, _ = socket.recv_fds(connection, HEADER.size, 3)
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    request = pickle.loads(_receive(connection, HEADER.unpack(header)[0]))
    connection.sendall(ACCEPTED)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    sys.path[:] = request["path"]
    threading.Thread(target=_exit_when_job_ends, args=(connection,), daemon=True).start()
    status = _run_entry_point(request["module"], request["snakemake"])
    sys.stdout.flush()
    sys.stderr.flush()
    connection.sendall(STATUS.pack(status))
    return status


def _run_entry_point(module: str, smk: Any) -> int:
    """``run_rule(main, smk)`` of a freshly imported entry point, as its ``if "snakemake" in globals()`` line would
    run it; the exit status it would have had (a traceback on stderr for an uncaught exception)."""
    for name in [name for name in sys.modules if name == "scripts" or name.startswith("scripts.")]:
        del sys.modules[name]  # the warm process's own copy of this module: the job imports the project fresh
    try:
        entry_point = importlib.import_module(module)
        entry_point.run_rule(entry_point.main, smk)
    except SystemExit as exit_:  # as the interpreter would exit: sys.exit(message) prints it and exits 1
        if isinstance(exit_.code, str):
            print(exit_.code, file=sys.stderr)
        return exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    except BaseException:
        traceback.print_exc()
        return 1
    return 0


def _exit_when_job_ends(connection: socket.socket) -> None:
    """Stop the fork when the job's process goes away (Snakemake cancelled the job, or was interrupted)."""
    try:
        connection.recv(1)
    except OSError:
        pass
    os._exit(1)


def _receive(connection: socket.socket, size: int) -> bytes:
    """Exactly ``size`` bytes from the connection."""
    chunks, remaining = [], size
    while remaining:
        chunk = connection.recv(min(remaining, 1 << 20))
        if not chunk:
            raise EOFError(f"connection closed {remaining} bytes short")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


if __name__ == "__main__":
    serve(sys.argv[1])
