"""The native command line (build/bin/connmon): the same values as the
plugin, the original's interface and output formats, errors, live capture.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from conftest import PCAPS, ROOT, build_dir

sys.path.insert(0, str(ROOT / "tools"))
from lib import fields  # noqa: E402
from lib import pcap as pcaplib  # noqa: E402

ALL_PCAPS = sorted(str(p.relative_to(PCAPS)) for p in PCAPS.rglob("*.pcap*"))
FIELDS = fields.ALL   # every field and expert info: the CLI's JSON has them all


def cli_path():
    p = build_dir() / "bin" / "connmon"
    if not p.exists():
        pytest.fail(f"{p} not built")
    return str(p)


def cli(*args, check=True, timeout=120):
    proc = subprocess.run([cli_path()] + [str(a) for a in args], capture_output=True,
                          text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"connmon {' '.join(map(str, args))} -> {proc.returncode}\n"
                             f"{proc.stderr}")
    return proc


def cli_json(path, *args):
    """{frame: {field: value-as-text}} from --json (values kept as written)."""
    out = {}
    for line in cli("--json", "-q", *args, "-r", path).stdout.splitlines():
        obj = json.loads(line, parse_float=str)
        frame = obj.pop("frame")
        obj.pop("time")
        out[frame] = {k: ("1" if v is True else "0" if v is False else str(v))
                      for k, v in obj.items()}
    return out


def plugin_values(tshark, pcap, extra=()):
    table = tshark.table(pcap, FIELDS, extra)
    return {n: f for n, f in table.items() if f}


# ---- agreement ------------------------------------------------------------------

def test_agreement_covers_the_captures():
    assert len(ALL_PCAPS) >= 20
    assert any(p.startswith("real/") for p in ALL_PCAPS)
    assert any(p.startswith("crafted/") for p in ALL_PCAPS)


@pytest.mark.parametrize("pcap", ALL_PCAPS)
def test_cli_agrees_with_plugin(tshark, pcap):
    """Every packet's values from connmon --json equal the plugin's fields,
    frame numbers aligned."""
    want = plugin_values(tshark, pcap)
    got = cli_json(str(PCAPS / pcap))
    assert got == want


@pytest.mark.parametrize("mode", ["all", "none"])
def test_agreement_with_preferences(tshark, mode):
    pcap = "real/parallel_flows.pcap"
    want = plugin_values(tshark, pcap, ["-o", f"connmon.ts_pure_acks:{mode}",
                                        "-o", "connmon.rtd_max_age:0.05"])
    got = cli_json(str(PCAPS / pcap), "--ts-pure-acks", mode, "--rtdMaxAge", "0.05")
    assert got == want


# ---- link types --------------------------------------------------------------------

REF = PCAPS / "real" / "ipv4_delay_loss.pcap"
REF6 = PCAPS / "real" / "ipv6_bulk.pcap"


@pytest.mark.parametrize("ref", [REF, REF6], ids=["ipv4", "ipv6"])
@pytest.mark.parametrize("variant", pcaplib.LINK_VARIANTS)
def test_link_types_give_identical_values(tmp_path, tshark, ref, variant):
    """The same packets re-framed in another link type (or pcapng) give the
    same values, in the CLI and in the plugin."""
    base = cli_json(str(ref))
    path = tmp_path / f"{variant}.cap"
    pcaplib.reframe(ref, path, variant)
    assert cli_json(str(path)) == base
    assert plugin_values(tshark, tshark.stage_file(path)) == base


def test_ipv6_extension_headers(tmp_path, tshark):
    path = tmp_path / "ext.pcap"
    pcaplib.reframe(REF6, path, "ipv6-ext")
    base = cli_json(str(REF6))
    assert cli_json(str(path)) == base
    assert plugin_values(tshark, tshark.stage_file(path)) == base


def test_unsupported_link_type(tmp_path):
    path = tmp_path / "bt.pcap"
    pcaplib.write_records(path, 187, [(1, b"\x00" * 40, 40)])  # Bluetooth HCI H4
    p = cli("-r", path, check=False)
    assert p.returncode != 0
    assert "link type" in p.stderr and "not supported" in p.stderr


# ---- output formats and line selection ------------------------------------------------

def machine_lines(*args):
    return [l.split() for l in cli("-m", "-q", *args).stdout.splitlines()]


def test_machine_format_and_selection(tshark):
    pcap = "real/ipv4_delay_loss.pcap"
    vals = plugin_values(tshark, pcap)
    times = {n: f["frame.time_epoch"] for n, f in
             tshark.table(pcap, ["frame.time_epoch"]).items()}
    selected = [n for n, f in sorted(vals.items())
                if "connmon.tsrtd" in f or "connmon.seqrtd" in f or "connmon.dupack" in f
                or int(f.get("connmon.seqgap", "0")) > 0]
    lines = machine_lines("-r", PCAPS / pcap)
    assert len(lines) == len(selected) > 100

    def six(v):  # the CLI rounds half away from zero
        return str(Decimal(v).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP))
    for n, cols in zip(selected, lines):
        f = vals[n]
        assert len(cols) == 8
        assert cols[0] == six(times[n])
        assert cols[1] == (six(f["connmon.tsrtd"]) if "connmon.tsrtd" in f else "*")
        assert cols[2] == (six(f["connmon.seqrtd"]) if "connmon.seqrtd" in f else "*")
        assert cols[3] == f.get("connmon.seqgap", "0")
        assert cols[4] == (six(f["connmon.dupack"]) if "connmon.dupack" in f else "-")
        assert cols[5] == f["connmon.payload"]
        assert cols[6] == f["connmon.flowbytes"]
        assert cols[7] == f["connmon.flow"]


def test_quick_prints_only_samples():
    full = machine_lines("-r", REF)
    quick = machine_lines("-Q", "-r", REF)
    assert quick == [c for c in full if c[1] != "*" or c[2] != "*"]
    assert len(quick) < len(full)


def test_human_format():
    lines = cli("-q", "-r", REF).stdout.splitlines()
    mlines = machine_lines("-r", REF)
    assert len(lines) == len(mlines)
    unit = re.compile(r"^(\*|-|-?\d+(\.\d+)?(ns|us|ms|s))$")
    for line, m in zip(lines, mlines):
        cols = line.split()
        assert re.match(r"^\d\d:\d\d:\d\d$", cols[0])
        assert unit.match(cols[1]) and unit.match(cols[2]) and unit.match(cols[4])
        assert cols[3] == m[3] and cols[5:] == m[5:]
        for h, v in ((cols[1], m[1]), (cols[2], m[2])):
            if v != "*":
                assert h.endswith("ms") or h.endswith("us") or h.endswith("s")
    assert any(l.split()[1].endswith("ms") for l in lines)


def test_summary_on_stderr_and_quiet():
    p = cli("-m", "-r", REF)
    assert re.search(r"^\d+ flows, 1384 packets, 0 no TS opt, 0 uni-directional, 0 not TCP$",
                     p.stderr, re.M)
    assert cli("-m", "-q", "-r", REF).stderr == ""
    p = cli("-m", "-r", PCAPS / "real" / "nots.pcap")
    assert re.search(r" (\d+) packets, \1 no TS opt", p.stderr)


def test_sumint_prints_periodic_summaries():
    p = cli("-m", "--sumInt", "1", "-r", REF)
    summaries = [l for l in p.stderr.splitlines() if "flows," in l]
    assert len(summaries) >= 3  # several seconds of capture, plus the final one


def test_verbose_says_more():
    p = cli("-v", "-q", "-m", "-r", REF)
    assert "link type Ethernet" in p.stderr


def test_help():
    p = cli("-h")
    for flag in ["-i", "-r", "-f", "-c", "-s", "-m", "-Q", "-q", "-v", "-l", "--sumInt",
                 "--rtdMaxAge", "--flowMaxIdle", "--json", "--ts-pure-acks"]:
        assert flag in p.stdout
    p = cli(check=False)
    assert p.returncode != 0 and "usage" in p.stderr


def test_count_and_seconds_stop_file():
    lines = cli("--json", "-q", "-c", "100", "-r", REF).stdout.splitlines()
    assert [json.loads(l)["frame"] for l in lines] == list(range(1, 101))
    all_ = [json.loads(l) for l in cli("--json", "-q", "-r", REF).stdout.splitlines()]
    t0 = Decimal(str(all_[0]["time"]))
    lines = [json.loads(l) for l in cli("--json", "-q", "-s", "1", "-r", REF).stdout.splitlines()]
    assert lines and len(lines) < len(all_)
    assert all(Decimal(str(o["time"])) - t0 < 1 for o in lines)
    assert len(lines) == sum(1 for o in all_ if Decimal(str(o["time"])) - t0 < 1)


def test_filter_flag():
    port_lines = cli("--json", "-q", "-f", "port 5001", "-r", REF).stdout.splitlines()
    assert port_lines
    none = cli("--json", "-q", "-f", "port 9", "-r", REF).stdout
    assert none == ""


def test_rtd_max_age_and_flow_max_idle_flags():
    base = machine_lines("-Q", "-r", REF)
    assert machine_lines("-Q", "--rtdMaxAge", "0.000001", "-r", REF) == []
    assert machine_lines("-Q", "--rtdMaxAge", "10", "-r", REF) == base
    # a tiny idle limit restarts connections between packets: fewer samples
    assert len(machine_lines("-Q", "--flowMaxIdle", "0.001", "-r", REF)) < len(base)
    assert machine_lines("-Q", "--flowMaxIdle", "0", "-r", REF) == base


def test_ts_pure_acks_flag():
    counts = {m: len(machine_lines("-Q", "--ts-pure-acks", m, "-r",
                                   PCAPS / "real" / "parallel_flows.pcap"))
              for m in ("clocked", "all", "none")}
    assert counts["all"] >= counts["clocked"] >= counts["none"]
    assert counts["all"] > counts["none"]


# ---- errors --------------------------------------------------------------------------

@pytest.mark.parametrize("args,message", [
    (["-r", "/nonexistent.pcap"], "cannot read /nonexistent.pcap"),
    (["-i", "nosuchif0"], "no such interface: nosuchif0"),
    (["-r", str(REF), "-f", "port port"], "bad filter"),
    (["-r", str(REF), "-c", "0"], "-c"),
    (["-r", str(REF), "-c", "ten"], "-c"),
    (["-r", str(REF), "-s", "-1"], "-s"),
    (["-r", str(REF), "--sumInt", "x"], "--sumInt"),
    (["-r", str(REF), "--rtdMaxAge", "-3"], "must not be negative"),
    (["-r", str(REF), "--flowMaxIdle", "abc"], "--flowMaxIdle"),
    (["-r", str(REF), "--ts-pure-acks", "most"], "--ts-pure-acks"),
    (["-r", str(REF), "--bogus"], "unknown option"),
    (["-r", str(REF), "-i", "lo"], "exactly one"),
    (["-r"], "needs a value"),
])
def test_errors_one_clear_line(args, message):
    p = cli(*args, check=False)
    assert p.returncode != 0
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("connmon: ") and message in lines[0], p.stderr
    assert p.stdout == ""


def test_capture_permission_denied():
    if os.geteuid() != 0:
        cmd = [cli_path(), "-i", "lo", "-c", "1"]
    else:
        cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
               "--inh-caps=-all", cli_path(), "-i", "lo", "-c", "1"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    assert p.returncode != 0
    assert "no permission to capture on lo" in p.stderr


def test_truncated_capture_keeps_output(tmp_path):
    data = REF.read_bytes()
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(data[: len(data) // 2 + 7])  # ends inside a record
    full = cli("--json", "-q", "-r", REF).stdout.splitlines()
    p = cli("--json", "-q", "-r", cut, check=False)
    assert p.returncode != 0
    assert re.search(r"^connmon: .*cut\.pcap: .*truncated.*stopped after \d+ packets", p.stderr,
                     re.M)
    got = p.stdout.splitlines()
    assert len(got) > 100 and got == full[: len(got)]


def test_corrupt_capture(tmp_path):
    bad = tmp_path / "bad.pcap"
    bad.write_bytes(b"this is not a capture file at all" * 10)
    p = cli("-r", bad, check=False)
    assert p.returncode != 0 and "cannot read" in p.stderr


# ---- live -----------------------------------------------------------------------------

@pytest.fixture
def netns():
    if os.geteuid() != 0 or not shutil.which("ip"):
        pytest.skip("live capture test needs root and iproute2 (CI runs it as root)")
    name = f"cm-live-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        subprocess.run(["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"],
                       check=True)
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name])


TRAFFIC = r"""
import socket, sys, threading, time
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(5)
port = srv.getsockname()[1]
def serve():
    while True:
        c, _ = srv.accept()
        while True:
            d = c.recv(65536)
            if not d: break
            c.sendall(d[:100])
        c.close()
threading.Thread(target=serve, daemon=True).start()
end = time.time() + float(sys.argv[1])
while time.time() < end:
    s = socket.create_connection(("127.0.0.1", port))
    for _ in range(20):
        s.sendall(b"x" * 3000); s.recv(65536); time.sleep(0.005)
    s.close()
"""


@pytest.fixture
def live_lo(netns, tmp_path):
    """A namespace whose lo carries TCP request/response traffic for 20 s;
    yields the command prefix that runs a program in it."""
    script = tmp_path / "traffic.py"
    script.write_text(TRAFFIC)
    inside = ["ip", "netns", "exec", netns]
    traffic = subprocess.Popen(inside + [sys.executable, str(script), "20"])
    try:
        yield inside
    finally:
        traffic.kill()
        traffic.wait()


def test_live_count_stops(live_lo):
    p = subprocess.run(live_lo + [cli_path(), "-i", "lo", "-c", "200", "--json"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    objs = [json.loads(l) for l in p.stdout.splitlines()]
    assert objs and objs[-1]["frame"] <= 200
    assert any("connmon.tsrtd" in o for o in objs)
    assert any("connmon.seqrtd" in o for o in objs)
    assert re.search(r"\d+ flows, \d+ packets", p.stderr)


def test_live_seconds_stops_and_flushes(live_lo):
    start = time.monotonic()
    p = subprocess.run(live_lo + [cli_path(), "-i", "lo", "-s", "2", "-m", "-Q", "-l"],
                       capture_output=True, text=True, timeout=60)
    elapsed = time.monotonic() - start
    assert p.returncode == 0, p.stderr
    assert 1.9 <= elapsed < 6
    lines = p.stdout.splitlines()
    assert len(lines) > 10 and all(len(l.split()) == 8 for l in lines)
    # without -l, packets sent by the host itself are left out: on lo that
    # is every packet
    p2 = subprocess.run(live_lo + [cli_path(), "-i", "lo", "-s", "1", "-m", "-Q"],
                        capture_output=True, text=True, timeout=60)
    assert p2.returncode == 0 and p2.stdout == ""
    assert re.search(r"\d+ flows, [1-9]\d* packets", p2.stderr)


def test_live_prompt_output_and_sigint(live_lo):
    """Lines reach a pipe while capturing (not only at exit); SIGINT stops
    cleanly with a summary."""
    p = subprocess.Popen(live_lo + [cli_path(), "-i", "lo", "-m", "-l"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = p.stdout.readline()  # arrives while still running
    assert len(first.split()) == 8
    assert p.poll() is None
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=10)
    assert p.returncode == 0
    assert re.search(r"\d+ flows, \d+ packets", err)
