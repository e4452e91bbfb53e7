"""The warm start (scripts/warm.py): jobs run in forks of a process that preloaded the libraries, see their own folder,
environment and streams, fail as cold jobs fail, stop when Snakemake cancels them, and run cold when they should.

Most tests run Snakemake on a small workflow of tests/warm_entry.py jobs, with the pipeline's own hooks; the last three
hand a job to a stand-in warm process that fails before or after a fork takes the job, or answers a status."""
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT

SNAKEFILE = f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
from scripts import warm

onstart:
    warm.start(".snakemake/cityres_warm.log")

onsuccess:
    warm.stop()

onerror:
    warm.stop()

rule job:
    output: "{{name}}.json"
    log: "logs/{{name}}.log"
    threads: lambda wildcards: 2 if wildcards.name == "threaded" else 1
    params:
        action=lambda wildcards: wildcards.name if wildcards.name in ("fail", "wait") else "write",
        pid_file="wait.pid",
    script: {str(ROOT / "tests" / "warm_entry.py")!r}
"""


def snakemake(workdir: Path, *targets: str, env: dict | None = None, wait: bool = True):
    """Snakemake on the small workflow (a running process when ``wait`` is false)."""
    (workdir / "Snakefile").write_text(SNAKEFILE, encoding="utf-8")
    command = [sys.executable, "-m", "snakemake", "--cores", "2", *targets]
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "WARM_TEST_MARKER": "from the job's environment",
                   **(env or {})}
    if not wait:
        return subprocess.Popen(command, cwd=workdir, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, start_new_session=True)
    return subprocess.run(command, cwd=workdir, env=environment, capture_output=True, text=True, timeout=300)


def warm_process(workdir: Path) -> tuple[int, Path]:
    """The process ID and socket of the run's warm process (from its log)."""
    log = (workdir / ".snakemake" / "cityres_warm.log").read_text(encoding="utf-8")
    found = re.search(r"process (\d+) listening at (\S+)", log)
    return int(found.group(1)), Path(found.group(2))


def test_a_job_runs_in_a_warm_fork_with_its_own_folder_environment_and_streams(tmp_path):
    done = snakemake(tmp_path, "ok.json", "threaded.json")
    assert done.returncode == 0, done.stderr
    warm, threaded = (json.loads((tmp_path / f"{name}.json").read_text()) for name in ("ok", "threaded"))
    server, socket_path = warm_process(tmp_path)
    assert warm["parent"] == server, "the job did not run in a fork of the warm process"
    assert (warm["cwd"], warm["marker"], warm["threads"]) == (str(tmp_path), "from the job's environment", "1")
    assert "warm test job printed this" in done.stdout + done.stderr
    assert "done: 1 output file(s) written" in (tmp_path / "logs" / "ok.log").read_text()
    assert (tmp_path / "logs" / "ok.provenance.json").is_file()
    # Snakemake sets the BLAS thread variables per job and the warm process has one thread: a 2-thread job runs cold.
    assert threaded["parent"] != server and threaded["threads"] == "2"
    assert not socket_path.parent.exists(), "the warm process's folder outlived the run"


def test_cityres_warm_0_runs_every_job_cold(tmp_path):
    done = snakemake(tmp_path, "ok.json", env={"CITYRES_WARM": "0"})
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / ".snakemake" / "cityres_warm.log").exists(), "a warm process started"


def test_a_failing_job_fails_the_run_with_its_message_as_a_cold_job_would(tmp_path):
    failed = snakemake(tmp_path, "fail.json")
    assert failed.returncode != 0
    assert "cityres input error in rule 'job':\n  the stand-in job failed on purpose" in failed.stderr
    assert "Traceback" not in failed.stderr
    assert not (tmp_path / "fail.json").exists()
    assert not warm_process(tmp_path)[1].parent.exists()


@pytest.mark.skipif(sys.platform != "linux", reason="process checks through /proc")
def test_an_interrupted_run_stops_the_job_running_in_the_fork(tmp_path):
    """The fork is not in the terminal's process group: it stops when the job's process, interrupted, goes away."""
    run = snakemake(tmp_path, "wait.json", wait=False)
    pid_file = tmp_path / "wait.pid"
    for _ in range(600):
        if pid_file.exists() and pid_file.read_text():
            break
        time.sleep(0.1)
    else:
        run.kill()
        pytest.fail(f"the waiting job never started: {run.communicate()[1]}")
    fork = int(pid_file.read_text())
    os.killpg(run.pid, signal.SIGINT)  # as Ctrl-C in a terminal: Snakemake and its jobs' processes
    run.communicate(timeout=60)
    for _ in range(100):
        if not Path(f"/proc/{fork}").exists() or "Z" in Path(f"/proc/{fork}/stat").read_text().split()[2]:
            break
        time.sleep(0.1)
    else:
        os.kill(fork, signal.SIGKILL)
        pytest.fail("the job's fork kept running after Snakemake was interrupted")


def stand_in_warm_process(folder: Path, reply: bytes) -> tuple[Path, dict]:
    """A socket that takes one job's request the way the warm process does (header with the job's three streams,
    then the pickled request), answers `reply` and closes: b"" for a failure before a fork acknowledges the job,
    ACCEPTED alone for a fork that dies while it runs the job. Returns the socket's path and a dict that holds the
    request once it has been read (key "request")."""
    import pickle
    import socket
    import threading

    from scripts import warm

    path, received = folder / "socket", {}
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(1)

    def answer() -> None:
        connection, _ = listener.accept()
        header, fds, _, _ = socket.recv_fds(connection, warm.HEADER.size, 3)
        for fd in fds:
            os.close(fd)
        received["request"] = pickle.loads(warm._receive(connection, warm.HEADER.unpack(header)[0]))
        connection.sendall(reply)
        connection.close()
        listener.close()

    threading.Thread(target=answer, daemon=True).start()
    return path, received


def hand_over_to(socket_path: Path, monkeypatch) -> None:
    """hand_over of a one-thread job of this project's entry point tests/warm_entry.py, to the socket at
    `socket_path`."""
    from types import SimpleNamespace

    from scripts import warm

    monkeypatch.setenv(warm.SOCKET_VARIABLE, str(socket_path))
    monkeypatch.delenv(warm.SWITCH, raising=False)
    warm.hand_over({"snakemake": SimpleNamespace(threads=1, rule="job"), "__file__": str(ROOT / "tests" /
                                                                                       "warm_entry.py")})


def test_a_job_whose_hand_over_fails_before_a_fork_takes_it_runs_cold(tmp_path, monkeypatch):
    """Nothing has run until a fork acknowledges the job: hand_over returns (it does not exit), and the entry point
    goes on cold, although the whole request had reached the warm process."""
    socket_path, received = stand_in_warm_process(tmp_path, b"")
    hand_over_to(socket_path, monkeypatch)
    assert received["request"]["module"] == "tests.warm_entry" and received["request"]["cwd"] == os.getcwd()


def test_a_fork_that_dies_during_the_job_fails_it_with_the_way_out(tmp_path, monkeypatch, capsys):
    """A fork that acknowledged the job and ended without a status fails the job (never reruns it silently), with a
    message that names CITYRES_WARM=0."""
    from scripts import warm

    with pytest.raises(SystemExit) as exit_:
        hand_over_to(stand_in_warm_process(tmp_path, warm.ACCEPTED)[0], monkeypatch)
    assert exit_.value.code == 1
    message = capsys.readouterr().err
    assert "the warm process running rule 'job' ended without an exit status" in message
    assert "CITYRES_WARM=0" in message


def test_the_job_exits_with_the_status_its_fork_sends(tmp_path, monkeypatch):
    from scripts import warm

    with pytest.raises(SystemExit) as exit_:
        hand_over_to(stand_in_warm_process(tmp_path, warm.ACCEPTED + warm.STATUS.pack(3))[0], monkeypatch)
    assert exit_.value.code == 3
