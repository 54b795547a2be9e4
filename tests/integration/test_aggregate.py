"""Aggregates per interval and source prefix (connmon --aggregate N) and
--exclude, recomputed from the same run's per-packet values (connmon
--json): per interval (N seconds since the epoch, a packet counting in the
interval of the largest capture time seen so far) and per prefix of the
packet's sender: packets, payload bytes, hole/behind/dupack and the count,
min, max and mean of the halves exact, percentiles within the SPEC's
tolerance of the nearest rank (1 % or 1 us, whichever is larger).  Also
the record order and format, the option errors, and SIGHUP reopening
--output during a replay.
"""
import ipaddress
import json
import os
import signal
import subprocess
import time
from decimal import ROUND_HALF_EVEN, Decimal

import pytest

from conftest import PCAPS, build_dir, echo_server

ALL_PCAPS = sorted(str(p.relative_to(PCAPS)) for p in PCAPS.rglob("*.pcap*"))
NS = Decimal(10) ** 9
KEYS = ["start", "prefix", "packets", "payload_bytes", "count", "min", "mean", "p50", "p90",
        "p99", "max", "hole", "behind", "dupack"]


def cli_path():
    p = build_dir() / "bin" / "connmon"
    if not p.exists():
        pytest.fail(f"{p} not built")
    return str(p)


def cli(*args, check=True, timeout=120):
    proc = subprocess.run([cli_path()] + [str(a) for a in args], capture_output=True,
                          text=True, timeout=timeout)
    if check and proc.returncode not in (0, 3):     # 3: damaged capture, read up to it
        raise AssertionError(f"connmon {' '.join(map(str, args))} -> {proc.returncode}\n"
                             f"{proc.stderr}")
    return proc


def jsonl(text):
    return [json.loads(line, parse_float=Decimal) for line in text.splitlines()]


def ns(seconds):
    return int(Decimal(seconds) * NS)


def sender(flow):
    """The source address of a "src:sport+dst:dport" label."""
    src = flow.split("+", 1)[0]
    if src.startswith("["):
        return ipaddress.ip_address(src[1:src.index("]")])
    return ipaddress.ip_address(src.rsplit(":", 1)[0])


def prefix_of(addr, len4, len6):
    n = len4 if addr.version == 4 else len6
    return ipaddress.ip_network(f"{addr}/{n}", strict=False)


# ---- the reference ----------------------------------------------------------------------

class Cell:
    def __init__(self):
        self.packets = self.payload = self.hole = self.behind = self.dupack = 0
        self.halves = []


def reference(objs, interval_ns, len4=24, len6=48):
    """{(start_ns, network): Cell} from the per-packet values."""
    cells, latest = {}, None
    for o in objs:
        t = ns(o["time"])
        latest = t if latest is None else max(latest, t)
        start = latest - latest % interval_ns      # Python's % floors: also before 1970
        net = prefix_of(sender(o["connmon.flow"]), len4, len6)
        c = cells.setdefault((start, net), Cell())
        c.packets += 1
        c.payload += o["connmon.payload"]
        c.hole += bool(o.get("connmon.expert.hole"))
        c.behind += bool(o.get("connmon.expert.behind"))
        c.dupack += bool(o.get("connmon.expert.dupack"))
        half = o.get("connmon.tsrtd", o.get("connmon.seqrtd"))
        if half is not None:
            c.halves.append(ns(half))
    return cells


def order_key(item):
    (start, net), _ = item
    return (start, net.version, net.network_address.packed, net.prefixlen)


def within_tolerance(got, exact):
    return abs(got - exact) <= max(abs(exact) / 100, 1000)


def check_record(rec, start, net, cell, what):
    keys = KEYS if cell.halves else KEYS[:5] + KEYS[11:]
    assert list(rec) == keys, what
    assert ns(rec["start"]) == start and Decimal(rec["start"]).as_tuple().exponent == -9, what
    assert rec["prefix"] == str(net), what
    assert (rec["packets"], rec["payload_bytes"]) == (cell.packets, cell.payload), what
    assert (rec["hole"], rec["behind"], rec["dupack"]) == \
        (cell.hole, cell.behind, cell.dupack), what
    v = sorted(cell.halves)
    n = len(v)
    assert rec["count"] == n, what
    if not n:
        return
    assert ns(rec["min"]) == v[0] and ns(rec["max"]) == v[-1], what
    mean = (Decimal(sum(v)) / n).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
    assert ns(rec["mean"]) == mean, what
    for pct in (50, 90, 99):
        exact = v[max(1, (pct * n + 99) // 100) - 1]
        assert within_tolerance(ns(rec[f"p{pct}"]), exact), \
            f"{what} p{pct}: {rec[f'p{pct}']} vs nearest rank {Decimal(exact) / NS}"


def check_aggregates(pcap, interval, *args, len4=24, len6=48):
    """--aggregate against the recomputation from --json, same options."""
    path = PCAPS / pcap
    recs = jsonl(cli("-q", "--aggregate", interval, *args, "-r", path).stdout)
    objs = jsonl(cli("-q", "--json", *args, "-r", path).stdout)
    cells = sorted(reference(objs, ns(interval), len4, len6).items(), key=order_key)
    assert len(recs) == len(cells), pcap
    for rec, ((start, net), cell) in zip(recs, cells):
        check_record(rec, start, net, cell, f"{pcap} {rec['start']} {rec['prefix']}")
    return recs, objs


# ---- tests ------------------------------------------------------------------------------

@pytest.mark.parametrize("pcap", ALL_PCAPS)
def test_aggregates_match_per_packet_values(pcap):
    """Default prefixes (/24, /48), one-second intervals."""
    check_aggregates(pcap, "1")


@pytest.mark.parametrize("pcap", ["real/bottleneck.pcap", "real/ipv4_delay_loss.pcap",
                                  "real/ipv6_bulk.pcap", "real/parallel_flows.pcap",
                                  "crafted/time_backwards.pcap", "crafted/ipv6.pcap",
                                  "crafted/encaps.pcap"])
@pytest.mark.parametrize("interval", ["0.25", "7", "3600"])
def test_aggregates_per_host(pcap, interval):
    """Host prefixes (/32, /128): each side of a connection on its own,
    intervals shorter than a round trip and longer than the capture."""
    check_aggregates(pcap, interval, "--prefix4", "32", "--prefix6", "128", len4=32, len6=128)


def test_aggregates_both_sides_apart():
    """Mid-path capture: the two hosts' halves are the two sides of the
    path (bottleneck: the queue is towards 10.201.0.1)."""
    recs, _ = check_aggregates("real/bottleneck.pcap", "3600", "--prefix4", "32", len4=32)
    by = {r["prefix"]: r for r in recs}
    assert set(by) == {"10.201.0.1/32", "10.201.0.2/32"}
    assert by["10.201.0.1/32"]["p90"] > 5 * by["10.201.0.2/32"]["p90"]
    assert by["10.201.0.1/32"]["count"] > 400


def test_exclude():
    """--exclude drops traffic to or from the prefix, in --json and
    --aggregate alike; the count of dropped packets goes to stderr."""
    pcap = "real/parallel_flows.pcap"
    everything = jsonl(cli("-q", "--json", "-r", PCAPS / pcap).stdout)
    hosts = {str(sender(o["connmon.flow"])) for o in everything}
    assert len(hosts) >= 2
    victim = sorted(hosts)[0]
    proc = cli("--json", "--exclude", f"{victim}/32", "-r", PCAPS / pcap)
    left = jsonl(proc.stdout)
    assert left and all(victim not in o["connmon.flow"] for o in left)
    dropped = sum(victim in o["connmon.flow"] for o in everything)
    assert f"connmon: {dropped} packets excluded (--exclude)" in proc.stderr
    check_aggregates(pcap, "1", "--exclude", f"{victim}/32")
    # two prefixes, one of them IPv6 (the capture has IPv6 in fd00:c0::/48)
    check_aggregates(pcap, "1", "--exclude", f"{victim}/32", "--exclude", "fd00::/16")
    # every address: nothing left, no record
    assert cli("-q", "--aggregate", "1", "--exclude", "0.0.0.0/0", "--exclude", "::/0", "-r",
               PCAPS / pcap).stdout == ""


@pytest.mark.parametrize("args, message", [
    (["--aggregate", "0"], "--aggregate: must be greater than 0"),
    (["--aggregate", "x"], "--aggregate: \"x\""),
    (["--aggregate", "1", "--json"], "leave out --json"),
    (["--aggregate", "1", "-m"], "leave out -m"),
    (["--aggregate", "1", "--flows", "-"], "give --flows a file"),
    (["--prefix4", "33"], "--prefix4: \"33\" is not a prefix length from 0 to 32"),
    (["--prefix6", "129"], "--prefix6: \"129\" is not a prefix length from 0 to 128"),
    (["--exclude", "10.1.2.3/24"], "did you mean 10.1.2.0/24?"),
    (["--exclude", "10.1.2/24"], "is not an IPv4 address"),
    (["--exclude", "2001:db8::/129"], "0 to 128"),
    (["--metrics", "99999"], "--metrics: \"99999\" has no port"),
    (["--metrics", "::1:9100"], "write [ADDR]:PORT"),
    (["--metrics-prefixes", "-1"], "--metrics-prefixes: \"-1\" is not a whole number"),
    (["--fanout", "3"], "--fanout shares a live interface"),
    (["--fanout", "70000"], "--fanout: \"70000\" is not a group id"),
])
def test_option_errors(args, message):
    proc = cli(*args, "-r", PCAPS / "real/bottleneck.pcap", check=False)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("connmon: ") and message in lines[0], lines


def test_other_past_the_prefix_limit():
    """--aggregate-prefixes 1: the first prefix of each interval keeps its
    record, the others are summed up under "other", last."""
    pcap = PCAPS / "real/bottleneck.pcap"
    full = jsonl(cli("-q", "--aggregate", "3600", "--prefix4", "32", "-r", pcap).stdout)
    capped = jsonl(cli("-q", "--aggregate", "3600", "--prefix4", "32",
                       "--aggregate-prefixes", "1", "-r", pcap).stdout)
    assert [r["prefix"] for r in capped] == ["10.201.0.1/32", "other"]  # first sender: client
    other = {r["prefix"]: r for r in full}["10.201.0.2/32"]
    assert {k: v for k, v in capped[1].items() if k != "prefix"} == \
        {k: v for k, v in other.items() if k != "prefix"}


def test_sighup_reopens_output(tmp_path):
    """A replay writes aggregates into --output; the file is moved away
    (log rotation) and SIGHUP makes connmon write the rest into a new file
    of the same name.  Both files together are the whole output."""
    pcap = PCAPS / "real/bottleneck.pcap"
    whole = cli("-q", "--aggregate", "0.5", "-r", pcap).stdout.splitlines()
    assert len(whole) >= 6
    out = tmp_path / "agg.jsonl"
    err = tmp_path / "err.txt"
    with open(err, "w") as e:
        proc = subprocess.Popen([cli_path(), "-q", "--aggregate", "0.5", "--output", str(out),
                                 "-e", "--speed", "1.5", "-r", str(pcap)],
                                stdout=subprocess.DEVNULL, stderr=e)
    try:
        deadline = time.time() + 20
        while time.time() < deadline and (not out.exists() or out.read_text().count("\n") < 2):
            time.sleep(0.05)
        assert out.read_text().count("\n") >= 2, "no records during the replay"
        out.rename(tmp_path / "agg.jsonl.1")
        proc.send_signal(signal.SIGHUP)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    first = (tmp_path / "agg.jsonl.1").read_text().splitlines()
    second = out.read_text().splitlines()
    assert second, "nothing written after SIGHUP"
    assert first + second == whole
    assert f"connmon: SIGHUP: reopened {out}" in err.read_text().splitlines()


def test_output_appends(tmp_path):
    """--output appends (a restarted service keeps its history)."""
    out = tmp_path / "agg.jsonl"
    pcap = PCAPS / "real/ipv4_delay_loss.pcap"
    one = cli("-q", "--aggregate", "1", "-r", pcap).stdout
    assert cli("-q", "--aggregate", "1", "--output", out, "-r", pcap).stdout == ""
    cli("-q", "--aggregate", "1", "--output", out, "-r", pcap)
    assert out.read_text() == one + one


def test_live_records_come_out_promptly(tmp_path):
    """Live (-i lo): an interval's records come out about when it ends, by
    the wall clock, without waiting for a later packet."""
    import socket
    if os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail("CI runs as root: live capture on lo must work")
        pytest.skip("live capture needs root (CAP_NET_RAW)")
    srv = echo_server()
    port = srv.getsockname()[1]
    out, err = tmp_path / "agg.jsonl", tmp_path / "err.txt"
    proc = subprocess.Popen([cli_path(), "-i", "lo", "-f", f"port {port}", "--aggregate", "1",
                             "--prefix4", "32"], stdout=open(out, "w"), stderr=open(err, "w"))
    try:
        time.sleep(1.0)  # capturing
        with socket.create_connection(("127.0.0.1", port)) as s:
            for _ in range(5):
                s.sendall(b"y" * 1000)
                s.recv(65536)
            sent = time.time()
            deadline = sent + 8
            while time.time() < deadline and not out.read_text():
                time.sleep(0.05)
            waited = time.time() - sent
        assert out.read_text(), f"no record 8 s after the traffic: {err.read_text()}"
        # interval end (< 1 s) + 0.25 s grace + a 0.1 s tick, with room for a
        # loaded machine; without the clock it would wait for the next packet
        assert waited < 4, waited
        rec = json.loads(out.read_text().splitlines()[0])
        assert rec["prefix"] == "127.0.0.1/32" and rec["packets"] >= 10 and rec["count"] >= 1
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)
        srv.close()
