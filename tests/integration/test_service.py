"""packaging/connmon@.service: systemd accepts the unit, and what it runs
works the way it runs it: as an unprivileged user whose only capability is
the unit's AmbientCapabilities (CAP_NET_RAW), on a live interface, with the
unit's default options (--metrics, --aggregate, --output into a directory
of its own), reloaded with SIGHUP (ExecReload) and stopped with SIGTERM.

The CI machine has no systemd running, so the service itself is emulated
with setpriv (as root); `systemd-analyze verify` checks the unit file.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import ROOT, build_dir, echo_server

UNIT = ROOT / "packaging" / "connmon@.service"


def unit_settings():
    out = {}
    for line in UNIT.read_text().splitlines():
        if line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            out.setdefault(key, []).append(value)
    return out


def test_systemd_accepts_the_unit(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        pytest.skip("no systemd-analyze here")
    cli = build_dir() / "bin" / "connmon"
    unit = tmp_path / "connmon@lo.service"
    unit.write_text(UNIT.read_text().replace("/usr/bin/connmon", str(cli)))
    proc = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_unit_runs_without_root():
    """The unit's command, as nobody with CAP_NET_RAW only, on lo."""
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        if os.environ.get("CI"):
            pytest.fail("CI runs as root with setpriv (util-linux)")
        pytest.skip("needs root and setpriv to become an unprivileged user")
    s = unit_settings()
    assert s["User"] if "User" in s else s["DynamicUser"] == ["yes"]
    caps = s["AmbientCapabilities"][0].split()
    assert caps == ["CAP_NET_RAW"] and s["CapabilityBoundingSet"][0].split() == caps
    assert s["ExecReload"] == ["/bin/kill -HUP $MAINPID"]
    exec_start = s["ExecStart"][0]
    opts = re.fullmatch(r'"CONNMON_OPTS=(.*)"', s["Environment"][0]).group(1)

    # a world-writable stand-in for LogsDirectory=, a copy of the binary
    # nobody can run (the checkout and pytest's tmp_path may be closed to it)
    tmp_path = Path(tempfile.mkdtemp(prefix="connmon-service-"))
    os.chmod(tmp_path, 0o755)
    logs = tmp_path / "logs"
    logs.mkdir()
    os.chmod(logs, 0o777)
    cli = tmp_path / "connmon"
    shutil.copy(build_dir() / "bin" / "connmon", cli)
    os.chmod(cli, 0o755)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        mport = probe.getsockname()[1]
    opts = (opts.replace("/var/log/connmon", str(logs))
            .replace("--aggregate 60", "--aggregate 1")
            .replace("--metrics 9100", f"--metrics 127.0.0.1:{mport}"))
    argv = exec_start.replace("/usr/bin/connmon", str(cli)).replace("%i", "lo") \
        .replace("$CONNMON_OPTS", opts.replace("%i", "lo")).split()
    cap = caps[0].lower().replace("cap_", "+")
    err = tmp_path / "stderr.txt"
    proc = subprocess.Popen(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                             f"--inh-caps={cap}", f"--ambient-caps={cap}", *argv],
                            stdout=subprocess.DEVNULL, stderr=open(err, "w"))
    srv = None
    try:
        deadline = time.time() + 10
        while "serving" not in err.read_text():
            assert time.time() < deadline and proc.poll() is None, err.read_text()
            time.sleep(0.05)
        srv = echo_server()
        with socket.create_connection(srv.getsockname()) as c:
            for _ in range(5):
                c.sendall(b"z" * 500)
                c.recv(65536)
        out = logs / "lo.jsonl"
        deadline = time.time() + 10
        while not (out.exists() and out.read_text()):
            assert time.time() < deadline, err.read_text()
            time.sleep(0.1)
        with urllib.request.urlopen(f"http://127.0.0.1:{mport}/metrics", timeout=5) as r:
            text = r.read().decode()
        assert re.search(r"^connmon_packets_total [1-9]", text, re.M), text
        out.rename(logs / "lo.jsonl.1")
        proc.send_signal(signal.SIGHUP)                       # systemctl reload
        deadline = time.time() + 10
        while f"connmon: SIGHUP: reopened {out}" not in err.read_text():
            assert time.time() < deadline, err.read_text()
            time.sleep(0.05)
        assert out.exists() and out.stat().st_uid != 0        # made by nobody
        proc.send_signal(signal.SIGTERM)                      # systemctl stop
        assert proc.wait(timeout=10) == 0, err.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if srv:
            srv.close()
        log = err.read_text()
        shutil.rmtree(tmp_path, ignore_errors=True)
    assert all(line.startswith("connmon: ") or re.match(r"\d+ (flows|expired)", line)
               for line in log.splitlines())
