"""The Prometheus endpoint (connmon --metrics): the text served at
/metrics against the same run's per-packet values (connmon --json), exact;
Prometheus's own `promtool check metrics`; and a real Prometheus server
(Debian's `prometheus`) scraping connmon on a bundled capture, asked
through its HTTP API for sum(connmon_rtd_seconds_count) and
histogram_quantile(0.5, ...).

connmon is started with --metrics 127.0.0.1:0 (a free port, read from its
log line), Prometheus on a port found free just before; both are killed in
`finally`.  When CI is set, a missing prometheus/promtool fails the tests
(scripts/install-deps.sh installs them); elsewhere they are skipped.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from decimal import Decimal

import pytest

from conftest import PCAPS, build_dir

NS = Decimal(10) ** 9
BOUNDS_NS = [100_000, 200_000, 500_000, 1_000_000, 2_000_000, 5_000_000, 10_000_000,
             20_000_000, 50_000_000, 100_000_000, 200_000_000, 500_000_000, 1_000_000_000,
             2_000_000_000, 5_000_000_000, 10_000_000_000]
LES = ["0.0001", "0.0002", "0.0005", "0.001", "0.002", "0.005", "0.01", "0.02", "0.05", "0.1",
       "0.2", "0.5", "1", "2", "5", "10", "+Inf"]


def cli_path():
    p = build_dir() / "bin" / "connmon"
    if not p.exists():
        pytest.fail(f"{p} not built")
    return str(p)


def tool(name):
    """/usr/bin/prometheus or promtool: required under CI, else skip."""
    path = shutil.which(name) or (f"/usr/bin/{name}" if os.path.exists(f"/usr/bin/{name}")
                                  else None)
    if path:
        return path
    if os.environ.get("CI"):
        pytest.fail(f"{name} is missing (scripts/install-deps.sh installs Debian's prometheus)")
    pytest.skip(f"{name} not installed (apt-get install prometheus)")


def ns(seconds):
    return int(Decimal(seconds) * NS)


def json_values(pcap, *args):
    proc = subprocess.run([cli_path(), "-q", "--json", *args, "-r", str(pcap)],
                          capture_output=True, text=True, timeout=120, check=True)
    return [json.loads(line, parse_float=Decimal) for line in proc.stdout.splitlines()]


def halves_by_sender(objs, len4=32):
    out = {}
    for o in objs:
        half = o.get("connmon.tsrtd", o.get("connmon.seqrtd"))
        if half is None:
            continue
        src = o["connmon.flow"].split("+")[0]
        host = src[1:src.index("]")] if src.startswith("[") else src.rsplit(":", 1)[0]
        assert len4 == 32
        out.setdefault(f"{host}/{'128' if ':' in host else '32'}", []).append(ns(half))
    return out


def bucket(v_ns):
    for i, b in enumerate(BOUNDS_NS):
        if v_ns <= b:
            return i
    return len(BOUNDS_NS)


def get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.headers.get("Content-Type"), r.read().decode()


class Connmon:
    """connmon with --metrics 127.0.0.1:0; port from its log line."""

    def __init__(self, tmp_path, *args):
        self.err_path = tmp_path / f"connmon-{time.monotonic_ns()}.err"
        self.err = open(self.err_path, "w")
        self.proc = subprocess.Popen([cli_path(), "--metrics", "127.0.0.1:0", *map(str, args)],
                                     stdout=subprocess.DEVNULL, stderr=self.err)
        self.port = None
        deadline = time.time() + 20
        while time.time() < deadline and self.port is None:
            m = re.search(r"serving http://127\.0\.0\.1:(\d+)/metrics", self.log())
            if m:
                self.port = int(m.group(1))
            elif self.proc.poll() is not None:
                break
            else:
                time.sleep(0.02)
        assert self.port, f"connmon did not start serving:\n{self.log()}"
        self.url = f"http://127.0.0.1:{self.port}/metrics"

    def log(self):
        return self.err_path.read_text()

    def wait_input_ended(self, timeout=60):
        deadline = time.time() + timeout
        while "input ended" not in self.log():
            assert time.time() < deadline and self.proc.poll() is None, self.log()
            time.sleep(0.02)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.err.close()
        return self.proc.returncode


def parse_exposition(text):
    """{(name, frozenset(labels)): value} and the TYPE lines."""
    samples, types = {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, typ = line.split(" ", 3)
            types[name] = typ
            continue
        if line.startswith("#") or not line:
            continue
        m = re.fullmatch(r'([a-z_]+)(?:\{(.*)\})? (\S+)', line)
        assert m, line
        labels = frozenset(re.findall(r'(\w+)="([^"]*)"', m.group(2) or ""))
        samples[(m.group(1), labels)] = Decimal(m.group(3))
    return samples, types


# ---- the text served ---------------------------------------------------------------------

@pytest.mark.parametrize("pcap", ["real/bottleneck.pcap", "real/ipv6_bulk.pcap",
                                  "real/parallel_flows.pcap", "crafted/ipv6.pcap"])
def test_metrics_match_per_packet_values(tmp_path, pcap):
    """After the file: counters, gauge and every histogram sample exact;
    served as Prometheus text until SIGTERM, which ends connmon with 0."""
    path = PCAPS / pcap
    objs = json_values(path)
    c = Connmon(tmp_path, "-q", "--prefix4", "32", "--prefix6", "128", "-r", path)
    try:
        c.wait_input_ended()
        status, ctype, text = get(c.url)
        assert status == 200 and ctype.startswith("text/plain; version=0.0.4")
    finally:
        assert c.stop() == 0
    s, types = parse_exposition(text)
    total = lambda name: s[(name, frozenset())]  # noqa: E731
    assert total("connmon_packets_total") == len(objs)
    assert total("connmon_payload_bytes_total") == sum(o["connmon.payload"] for o in objs)
    for name, key in [("holes", "hole"), ("behind", "behind"), ("dupacks", "dupack")]:
        assert total(f"connmon_{name}_total") == \
            sum(bool(o.get(f"connmon.expert.{key}")) for o in objs), name
    assert total("connmon_connections_evicted_total") == 0
    assert total("connmon_connections") >= 1
    assert types["connmon_rtd_seconds"] == "histogram"
    assert types["connmon_connections"] == "gauge"
    assert types["connmon_packets_total"] == "counter"
    by = halves_by_sender(objs)
    served = {dict(k[1])["prefix"] for k in s if k[0] == "connmon_rtd_seconds_count"}
    assert served == set(by) | {"other"}
    for prefix, values in list(by.items()) + [("other", [])]:
        lab = ("prefix", prefix)
        for i, le in enumerate(LES):
            want = sum(bucket(v) <= i for v in values)
            assert s[("connmon_rtd_seconds_bucket", frozenset({lab, ("le", le)}))] == want, \
                (prefix, le)
        assert s[("connmon_rtd_seconds_count", frozenset({lab}))] == len(values)
        assert s[("connmon_rtd_seconds_sum", frozenset({lab}))] == Decimal(sum(values)) / NS
    assert "connmon: metrics: input ended, still serving" in c.log()
    assert all(line.startswith("connmon: ") for line in c.log().splitlines())


def test_promtool_accepts_the_text(tmp_path):
    promtool = tool("promtool")
    c = Connmon(tmp_path, "-q", "-r", PCAPS / "real/parallel_flows.pcap")
    try:
        c.wait_input_ended()
        _, _, text = get(c.url)
    finally:
        c.stop()
    proc = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_prefix_limit_and_other(tmp_path):
    """--metrics-prefixes 1: the first prefix with a half keeps its series,
    the halves of the others go to "other"; nothing is lost."""
    path = PCAPS / "real/bottleneck.pcap"
    by = halves_by_sender(json_values(path))
    c = Connmon(tmp_path, "-q", "--prefix4", "32", "--metrics-prefixes", "1", "-r", path)
    try:
        c.wait_input_ended()
        _, _, text = get(c.url)
    finally:
        c.stop()
    s, _ = parse_exposition(text)
    counts = {dict(k[1])["prefix"]: v for k, v in s.items() if k[0] == "connmon_rtd_seconds_count"}
    assert counts == {"10.201.0.2/32": len(by["10.201.0.2/32"]),   # first half: the SYN/ACK's
                      "other": len(by["10.201.0.1/32"])}


def test_http_paths(tmp_path):
    c = Connmon(tmp_path, "-q", "-r", PCAPS / "real/bottleneck.pcap")
    try:
        c.wait_input_ended()
        assert get(f"http://127.0.0.1:{c.port}/")[0] == 200
        with pytest.raises(urllib.error.HTTPError) as e:
            get(f"http://127.0.0.1:{c.port}/nothing")
        assert e.value.code == 404
        req = urllib.request.Request(c.url, data=b"x", method="POST")
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(req, timeout=5)
        assert e.value.code == 405
    finally:
        assert c.stop() == 0


def test_metrics_grow_during_replay(tmp_path):
    """During a replay (-e) scrapes see the packets counted so far: never
    decreasing, below the total before the end, the total after it."""
    path = PCAPS / "real/bottleneck.pcap"
    n = len(json_values(path))
    c = Connmon(tmp_path, "-q", "-e", "--speed", "2", "-r", path)
    seen = []
    try:
        while "input ended" not in c.log():
            assert c.proc.poll() is None, c.log()
            s, _ = parse_exposition(get(c.url)[2])
            seen.append(s[("connmon_packets_total", frozenset())])
            time.sleep(0.1)
        s, _ = parse_exposition(get(c.url)[2])
        seen.append(s[("connmon_packets_total", frozenset())])
    finally:
        c.stop()
    assert seen == sorted(seen) and seen[-1] == n
    assert any(0 < v < n for v in seen), seen


def test_port_in_use(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = subprocess.run([cli_path(), "--metrics", f"127.0.0.1:{port}", "-r",
                               str(PCAPS / "real/bottleneck.pcap")], capture_output=True,
                              text=True, timeout=30)
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.startswith(f"connmon: --metrics: cannot listen on 127.0.0.1:{port}")


# ---- a real Prometheus ---------------------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def promql(base, query):
    url = f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": query})
    _, _, body = get(url)
    reply = json.loads(body)
    assert reply["status"] == "success", reply
    return reply["data"]["result"]


def test_prometheus_scrapes_connmon(tmp_path):
    """Debian's prometheus scrapes connmon on bottleneck.pcap (kept serving
    after the file); PromQL through its HTTP API gives the count of halves
    of --json and a median within one bucket of the --aggregate p50."""
    prometheus = tool("prometheus")
    path = PCAPS / "real/bottleneck.pcap"
    objs = json_values(path)
    halves = sorted(ns(o.get("connmon.tsrtd", o.get("connmon.seqrtd"))) for o in objs
                    if "connmon.tsrtd" in o or "connmon.seqrtd" in o)
    agg = subprocess.run([cli_path(), "-q", "--aggregate", "3600", "--prefix4", "0", "-r",
                          str(path)], capture_output=True, text=True, check=True).stdout
    records = [json.loads(line, parse_float=Decimal) for line in agg.splitlines()]
    assert len(records) == 1 and records[0]["count"] == len(halves)
    p50 = ns(records[0]["p50"])

    c = Connmon(tmp_path, "-q", "-r", path)
    prom = None
    try:
        c.wait_input_ended()
        web = free_port()
        config = tmp_path / "prometheus.yml"
        config.write_text(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
            "scrape_configs:\n  - job_name: connmon\n    static_configs:\n"
            f"      - targets: ['127.0.0.1:{c.port}']\n")
        prom_log = open(tmp_path / "prometheus.log", "w")
        prom = subprocess.Popen(
            [prometheus, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{web}"], stdout=prom_log, stderr=prom_log)
        base = f"http://127.0.0.1:{web}"
        deadline = time.time() + 90
        count = None
        while time.time() < deadline:
            assert prom.poll() is None, (tmp_path / "prometheus.log").read_text()[-3000:]
            try:
                r = promql(base, "sum(connmon_rtd_seconds_count)")
            except (OSError, ValueError):
                r = []
            if r:
                count = Decimal(r[0]["value"][1])
                break
            time.sleep(0.5)
        assert count is not None, "no scrape within 90 s:\n" + \
            (tmp_path / "prometheus.log").read_text()[-3000:]
        assert count == len(halves)
        assert promql(base, 'up{job="connmon"}')[0]["value"][1] == "1"
        q = promql(base, "histogram_quantile(0.5, sum by (le) (connmon_rtd_seconds_bucket))")
        median = ns(Decimal(q[0]["value"][1]))
        assert abs(bucket(median) - bucket(p50)) <= 1, (median, p50)
        exact = halves[max(1, (50 * len(halves) + 99) // 100) - 1]
        assert abs(bucket(exact) - bucket(median)) <= 1, (median, exact)
        packets = promql(base, "connmon_packets_total")[0]["value"][1]
        assert int(packets) == len(objs)
    finally:
        if prom is not None:
            prom.terminate()
            try:
                prom.wait(timeout=20)
            except subprocess.TimeoutExpired:
                prom.kill()
                prom.wait()
        c.stop()


def test_evictions_and_connections(tmp_path):
    """connmon_connections_evicted_total: connections dropped idle
    (--flowMaxIdle) or to stay within --maxFlows, as the summary counts
    them; connmon_connections: those held at the end."""
    c = Connmon(tmp_path, "--maxFlows", "2", "--flowMaxIdle", "0.5", "-r",
                PCAPS / "real/parallel_flows.pcap")
    try:
        c.wait_input_ended()
        s, _ = parse_exposition(get(c.url)[2])
    finally:
        c.stop()
    m = re.search(r"(\d+) expired idle, .* (\d+) evicted", c.log())
    assert m, c.log()
    dropped = int(m.group(1)) + int(m.group(2))
    assert int(m.group(2)) > 0
    assert s[("connmon_connections_evicted_total", frozenset())] == dropped
    assert 1 <= s[("connmon_connections", frozenset())] <= 2


def test_promtool_accepts_the_rules():
    """packaging/prometheus-rules.yml (the README's PromQL) is valid."""
    promtool = tool("promtool")
    rules = PCAPS.parent / "packaging" / "prometheus-rules.yml"
    proc = subprocess.run([promtool, "check", "rules", str(rules)], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SUCCESS: 4 rules found" in proc.stdout
