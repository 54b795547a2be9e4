"""Per-connection records (connmon --flows, SPEC "Distributions and
per-connection records") and replay at capture pace (-e, --speed).

Every record is recomputed from the same run's per-packet values
(connmon --json) grouped by connection (Wireshark's tcp.stream, split
where a connection was idle longer than --flowMaxIdle): counts, frames,
times, min, max and mean exact; percentiles within the SPEC's tolerance of
the nearest rank (1 % of the value or 1 us, whichever is larger).
"""
import json
import subprocess
import time
from decimal import ROUND_HALF_EVEN, Decimal

import pytest

from conftest import PCAPS, build_dir

ALL_PCAPS = sorted(str(p.relative_to(PCAPS)) for p in PCAPS.rglob("*.pcap*"))
NS = Decimal(10) ** 9

RECORD_KEYS = ["first_frame", "last_frame", "first_time", "last_time", "a", "b"]
DIR_KEYS = ["flow", "packets", "payload_bytes", "tsrtd_count", "seqrtd_count",
            "pathrtd_count", "half", "path", "hole", "behind", "dupack"]
DIST_KEYS = ["count", "min", "mean", "p50", "p90", "p99", "max"]


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
    """JSON lines with exact decimals."""
    return [json.loads(line, parse_float=Decimal) for line in text.splitlines()]


def ns(seconds):
    return int(Decimal(seconds) * NS)


# ---- the reference ------------------------------------------------------------------

class Direction:
    def __init__(self, flow):
        self.flow = flow
        self.packets = self.payload_bytes = 0
        self.tsrtd = self.seqrtd = self.pathrtd = 0
        self.hole = self.behind = self.dupack = 0
        self.half, self.path = [], []

    def add(self, o):
        self.packets += 1
        self.payload_bytes = o["connmon.flowbytes"]
        self.tsrtd += "connmon.tsrtd" in o
        self.seqrtd += "connmon.seqrtd" in o
        self.pathrtd += "connmon.pathrtd" in o
        half = o.get("connmon.tsrtd", o.get("connmon.seqrtd"))
        if half is not None:
            self.half.append(ns(half))
        if "connmon.pathrtd" in o:
            self.path.append(ns(o["connmon.pathrtd"]))
        self.hole += bool(o.get("connmon.expert.hole"))
        self.behind += bool(o.get("connmon.expert.behind"))
        self.dupack += bool(o.get("connmon.expert.dupack"))


class Connection:
    def __init__(self, o):
        self.first_frame = o["frame"]
        self.first_time = o["time"]
        self.dirs = []          # [a, b]
        self.last_ns = None

    def add(self, o):
        self.last_frame, self.last_time = o["frame"], o["time"]
        self.last_ns = ns(o["time"])
        flow = o["connmon.flow"]
        for d in self.dirs:
            if d.flow == flow:
                break
        else:
            d = Direction(flow)
            self.dirs.append(d)
        d.add(o)


def reference(objs, stream_of, max_idle_ns=0):
    """Connections in first-frame order: packets grouped by tcp.stream, a
    new connection where one was idle for more than max_idle_ns."""
    conns, current = [], {}
    for o in objs:
        s = stream_of[o["frame"]]
        c = current.get(s)
        if c is None or (max_idle_ns and ns(o["time"]) - c.last_ns > max_idle_ns):
            c = current[s] = Connection(o)
            conns.append(c)
        c.add(o)
    return conns


def stream_numbers(tshark, pcap):
    rows = tshark.fields(tshark.stage_file(pcap), ["frame.number", "tcp.stream"])
    return {int(r[0]): int(r[1].split(",")[-1]) for r in rows if len(r) > 1 and r[1]}


# ---- checks ----------------------------------------------------------------------------

def within_tolerance(got, exact):
    return abs(got - exact) <= max(abs(exact) / 100, 1000)


def check_dist(got, values, what):
    if not values:
        assert got == {"count": 0}, what
        return
    assert list(got) == DIST_KEYS, what
    v = sorted(values)
    n = len(v)
    assert got["count"] == n, what
    assert ns(got["min"]) == v[0], what
    assert ns(got["max"]) == v[-1], what
    mean = (Decimal(sum(v)) / n).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
    assert ns(got["mean"]) == mean, what
    for pct in (50, 90, 99):
        exact = v[max(1, (pct * n + 99) // 100) - 1]
        assert within_tolerance(ns(got[f"p{pct}"]), exact), \
            f"{what} p{pct}: {got[f'p{pct}']} vs nearest rank {Decimal(exact) / NS}"
    # 9 decimals, seconds
    for k in DIST_KEYS[1:]:
        assert Decimal(got[k]).as_tuple().exponent == -9, (what, k, got[k])


def check_record(rec, conn, what):
    assert list(rec) == RECORD_KEYS[:4] + ["a"] + (["b"] if len(conn.dirs) > 1 else []), what
    assert rec["first_frame"] == conn.first_frame and rec["last_frame"] == conn.last_frame, what
    assert rec["first_time"] == conn.first_time and rec["last_time"] == conn.last_time, what
    assert rec["first_time"].as_tuple().exponent == -9
    for key, d in zip("ab", conn.dirs):
        r = rec[key]
        w = f"{what} {key} {d.flow}"
        assert list(r) == DIR_KEYS, w
        assert r["flow"] == d.flow, w
        assert (r["packets"], r["payload_bytes"]) == (d.packets, d.payload_bytes), w
        assert (r["tsrtd_count"], r["seqrtd_count"], r["pathrtd_count"]) == \
            (d.tsrtd, d.seqrtd, d.pathrtd), w
        assert (r["hole"], r["behind"], r["dupack"]) == (d.hole, d.behind, d.dupack), w
        check_dist(r["half"], d.half, w + " half")
        check_dist(r["path"], d.path, w + " path")


def records_and_values(pcap, *args):
    recs = jsonl(cli("-q", "--flows", "-", *args, "-r", pcap).stdout)
    objs = jsonl(cli("-q", "--json", *args, "-r", pcap).stdout)
    return recs, objs


# ---- tests -----------------------------------------------------------------------------

@pytest.mark.parametrize("pcap", ALL_PCAPS)
def test_records_match_per_packet_values(tshark, pcap):
    """--flowMaxIdle 0: one record per tcp.stream, all at the end, in
    first-frame order, each equal to its recomputation."""
    path = PCAPS / pcap
    recs, objs = records_and_values(path, "--flowMaxIdle", "0")
    conns = reference(objs, stream_numbers(tshark, path))
    assert [r["first_frame"] for r in recs] == [c.first_frame for c in conns]
    for rec, conn in zip(recs, conns):
        check_record(rec, conn, f"{pcap} connection from frame {conn.first_frame}")


def test_records_have_distributions():
    """The real captures give records with both halves and paths, and a
    one-directional stream gives a record without "b"."""
    recs, _ = records_and_values(PCAPS / "real/bottleneck.pcap")
    assert len(recs) == 1
    a, b = recs[0]["a"], recs[0]["b"]
    assert a["half"]["count"] > 400 and b["path"]["count"] > 400
    assert Decimal("0.1") < a["half"]["p50"] < a["half"]["p99"] <= a["half"]["max"]
    # mid-path: the two halves add up; a path is at least its own half
    assert b["path"]["min"] >= b["half"]["min"]


def test_one_directional_record(tmp_path):
    """Only one side of a connection captured: only "a"."""
    full = PCAPS / "real/ipv4_delay_loss.pcap"
    recs = jsonl(cli("-q", "--flows", "-", "-f", "src port 5001", "-r", full).stdout)
    assert recs and all("b" not in r for r in recs)
    for r in recs:
        assert r["a"]["flow"].split("+")[0].endswith(":5001")
        assert r["a"]["half"] == {"count": 0} and r["a"]["path"] == {"count": 0}


def test_idle_connections_are_split_and_written_when_forgotten(tshark):
    """--flowMaxIdle 0.3 on parallel_flows.pcap (connections that pause for
    longer): a connection idle longer than that is forgotten, its record
    written then, and its next packet starts a new record."""
    path = PCAPS / "real/parallel_flows.pcap"
    recs, objs = records_and_values(path, "--flowMaxIdle", "0.3")
    conns = reference(objs, stream_numbers(tshark, path), ns("0.3"))
    streams = len(set(stream_numbers(tshark, path).values()))
    assert len(conns) > streams, "the idle limit should split some connections"
    by_first = {r["first_frame"]: r for r in recs}
    assert len(by_first) == len(recs) == len(conns)
    for conn in conns:
        check_record(by_first[conn.first_frame], conn, f"connection from {conn.first_frame}")


def test_records_written_when_forgotten():
    """Replayed at 4x with --flowMaxIdle 0.3, the first records (parts of
    connections that paused) come out while the capture is still being
    replayed, not at the end."""
    pcap = PCAPS / "real/parallel_flows.pcap"
    proc = subprocess.Popen([cli_path(), "-q", "-e", "--speed", "4", "--flowMaxIdle", "0.3",
                             "--flows", "-", "-r", str(pcap)], stdout=subprocess.PIPE, text=True)
    start = time.monotonic()
    first = proc.stdout.readline()
    t_first = time.monotonic() - start
    rest = proc.stdout.read()
    t_all = time.monotonic() - start
    proc.wait(timeout=30)
    assert first.startswith('{"first_frame":') and rest
    assert t_first < t_all / 2, (t_first, t_all)


def test_flows_file_keeps_the_lines(tmp_path):
    pcap = PCAPS / "real/ipv4_delay_loss.pcap"
    out = tmp_path / "flows.jsonl"
    with_file = cli("-m", "-q", "--flows", out, "-r", pcap).stdout
    assert with_file == cli("-m", "-q", "-r", pcap).stdout
    recs = jsonl(out.read_text())
    assert recs == jsonl(cli("-q", "--flows", "-", "-r", pcap).stdout)
    assert len(recs) == 2


def test_flows_stdout_replaces_the_lines():
    pcap = PCAPS / "real/ipv4_delay_loss.pcap"
    out = cli("-q", "--flows", "-", "-r", pcap).stdout
    assert all(line.startswith('{"first_frame":') for line in out.splitlines())
    p = cli("--flows", "-", "--json", "-r", pcap, check=False)
    assert p.returncode == 2 and "--flows -" in p.stderr


@pytest.mark.parametrize("args,message", [
    (["--speed", "0"], "--speed"),
    (["--speed", "fast"], "--speed"),
    (["--speed", "-2"], "--speed"),
    (["--flows", "/nonexistent/dir/x.jsonl"], "cannot write"),
])
def test_errors(args, message):
    p = cli(*args, "-r", PCAPS / "real/bottleneck.pcap", check=False)
    assert p.returncode == 2 or p.returncode == 1
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("connmon: ") and message in lines[0], p.stderr


def test_replay_needs_a_file():
    p = cli("-e", "-i", "lo", check=False)
    assert p.returncode == 2 and "-e" in p.stderr


# ---- replay at capture pace ----------------------------------------------------------------

def capture_span(pcap):
    objs = jsonl(cli("-q", "--json", "-r", pcap).stdout)
    return float(objs[-1]["time"] - objs[0]["time"])


@pytest.mark.parametrize("speed", ["2", "4"])
def test_replay_takes_capture_time(speed):
    """-e --speed X: the lines of bottleneck.pcap (3.4 s) come out over
    about 3.4 / X seconds, the same lines as without -e."""
    pcap = PCAPS / "real/bottleneck.pcap"
    span = capture_span(pcap)
    start = time.monotonic()
    p = cli("-m", "-q", "-e", "--speed", speed, "-r", pcap, timeout=60)
    took = time.monotonic() - start
    want = span / float(speed)
    assert want * 0.95 <= took <= want + 1.5, f"{took:.2f} s for {want:.2f} s of capture"
    assert p.stdout == cli("-m", "-q", "-r", pcap).stdout


def test_replay_lines_come_out_at_pace():
    """Lines are written as their packets are replayed, not at the end."""
    pcap = PCAPS / "real/bottleneck.pcap"
    proc = subprocess.Popen([cli_path(), "-m", "-q", "-e", "--speed", "2", "-r", str(pcap)],
                            stdout=subprocess.PIPE, text=True)
    start = time.monotonic()
    first = proc.stdout.readline()
    t_first = time.monotonic() - start
    rest = proc.stdout.read()
    t_all = time.monotonic() - start
    proc.wait(timeout=30)
    assert first and rest
    assert t_first < t_all / 2, (t_first, t_all)


# ---- live ------------------------------------------------------------------------------------

from test_cli import live_lo, netns  # noqa: E402,F401  (fixtures: root, a namespace with traffic)


def test_live_records_when_idle(live_lo):
    """Live, --flowMaxIdle 0.5: the namespace's short connections are
    written while the capture runs (4 s), each with both directions and
    round-trip samples; the rest at the end."""
    start = time.monotonic()
    p = subprocess.Popen(live_lo + [cli_path(), "-i", "lo", "-q", "-s", "4", "--flowMaxIdle", "0.5",
                                    "--flows", "-"], stdout=subprocess.PIPE, text=True)
    first = p.stdout.readline()
    t_first = time.monotonic() - start
    rest = p.stdout.read()
    p.wait(timeout=30)
    assert p.returncode == 0
    assert first and t_first < 3.5, f"first record after {t_first:.2f} s"
    recs = jsonl(first + rest)
    assert len(recs) >= 3
    for r in recs:
        assert list(r) == RECORD_KEYS
        assert r["a"]["packets"] + r["b"]["packets"] >= 3
        assert r["a"]["half"]["count"] + r["b"]["half"]["count"] > 0
        assert r["first_frame"] <= r["last_frame"] and r["first_time"] <= r["last_time"]
