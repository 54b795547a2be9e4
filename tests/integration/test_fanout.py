"""--fanout GROUP: two connmon processes capture on the loopback interface
in one PACKET_FANOUT group while this test makes TCP connections through
it; every connection must be seen whole (both directions) by exactly one
of them.  Needs CAP_NET_RAW (root): skipped without it, except under CI,
which runs as root.
"""
import json
import os
import signal
import socket
import subprocess
import time

import pytest

from conftest import build_dir, echo_server

CONNECTIONS = 24


def cli_path():
    p = build_dir() / "bin" / "connmon"
    if not p.exists():
        pytest.fail(f"{p} not built")
    return str(p)


def test_fanout_splits_by_connection(tmp_path):
    if os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail("CI runs as root: live capture on lo must work")
        pytest.skip("live capture needs root (CAP_NET_RAW)")
    srv = echo_server(reply_bytes=100)
    port = srv.getsockname()[1]
    group = 40000 + os.getpid() % 20000
    procs, outs, errs = [], [], []
    try:
        for i in range(2):
            outs.append(tmp_path / f"out{i}.jsonl")
            errs.append(tmp_path / f"err{i}.txt")
            procs.append(subprocess.Popen(
                [cli_path(), "-i", "lo", "--fanout", str(group), "--json", "-f",
                 f"port {port}"], stdout=open(outs[i], "w"), stderr=open(errs[i], "w")))
        deadline = time.time() + 20
        while not all("joined group" in e.read_text() for e in errs):
            assert time.time() < deadline, [e.read_text() for e in errs]
            assert all(p.poll() is None for p in procs), [e.read_text() for e in errs]
            time.sleep(0.05)
        time.sleep(0.3)  # both sockets in the group before the first packet
        clients = set()
        for _ in range(CONNECTIONS):
            with socket.create_connection(("127.0.0.1", port)) as s:
                clients.add(f"127.0.0.1:{s.getsockname()[1]}")
                for _ in range(4):
                    s.sendall(b"x" * 3000)
                    s.recv(1000)
        time.sleep(1)
    finally:
        for p in procs:
            p.send_signal(signal.SIGINT)
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        srv.close()
    assert all(p.returncode == 0 for p in procs), [e.read_text() for e in errs]
    server = f"127.0.0.1:{port}"
    seen = []
    for out in outs:
        conns = {}
        for line in out.read_text().splitlines():
            a, b = json.loads(line)["connmon.flow"].split("+")
            client = a if b == server else b
            conns.setdefault(client, set()).add(a)   # the senders seen
        seen.append(conns)
    both = set(seen[0]) & set(seen[1])
    assert not both, f"connections seen by both processes: {both}"
    assert set(seen[0]) | set(seen[1]) == clients
    for conns in seen:
        for client, senders in conns.items():
            assert senders == {client, server}, f"{client}: one direction only"
    # 24 connections by flow hash: both get some (all in one: p = 2^-23)
    assert seen[0] and seen[1]
