"""Shared harness for the tshark integration tests.

tshark ignores personal plugins and WIRESHARK_PLUGIN_DIR when run as root,
so when the suite runs as root (CI does) every tshark runs as `nobody`
through setpriv.  Whatever tshark reads (the freshly built plugin and the
captures) is staged in a fresh world-readable temp directory, because a
checkout under /root is not traversable by nobody.

The staging and running logic lives in tools/connmon_tshark.py (shared with
the benchmark and the corpus check); the `tshark` fixture is its Tshark
object: tshark.table, tshark.fields, tshark.run, tshark.pcap,
tshark.stage_file, tshark.version.

tshark loads plugins from the stage only (WIRESHARK_PLUGIN_DIR replaces
the system plugin dir, HOME is an empty stage dir): the session fails when
the loaded connmon.so is any other copy (test_wireshark_versions.py shows
that a system-installed copy does not shadow it).  FT_BOOLEAN values read
1/0 on every Wireshark version (tshark.fields normalises 4.4+'s True/False).
"""
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

import connmon_tshark  # noqa: E402
from connmon_tshark import NOBODY, Tshark  # noqa: E402,F401

PCAPS = ROOT / "pcaps"


def build_dir() -> Path:
    return connmon_tshark.default_build_dir()


@pytest.fixture(scope="session")
def tshark():
    plugin_root = build_dir() / "plugins"
    if not list(plugin_root.glob("*/epan/connmon.so")):
        pytest.fail(f"connmon.so not built under {plugin_root}: build first "
                    "(cmake -S . -B build && cmake --build build)")
    ts = connmon_tshark.make_stage(plugin_root, captures=PCAPS, prefix="connmon-test-")
    try:
        problem = ts.plugin_problem()
        if problem:
            pytest.fail(problem)
        yield ts
    finally:
        shutil.rmtree(ts.stage, ignore_errors=True)


def echo_server(reply_bytes=None):
    """A TCP server on 127.0.0.1 for live-capture tests: every connection
    it accepts is served on its own thread, each read answered with the
    data (its first reply_bytes only, if given).  Close it when done."""
    import socket
    import threading

    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)

    def serve_one(c):
        with c:
            while data := c.recv(65536):
                c.sendall(data if reply_bytes is None else data[:reply_bytes])

    def accept():
        while True:
            try:
                c, _ = srv.accept()
            except OSError:
                return
            threading.Thread(target=serve_one, args=(c,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return srv
