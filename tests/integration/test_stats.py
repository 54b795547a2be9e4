"""The connmon stats tree (Statistics -> connmon, tshark -z connmon,tree).

Every number of the printed tree is compared with values recomputed
independently from the per-packet fields (-T fields) of the same capture:
per flow (connmon.flow label) packets, TS, seq, half (tsrtd, else seqrtd)
and path (pathrtd) round-trip delays (count, average, min, max in
microseconds), the halves' and paths' p50 / p90 / p99 (rank as count; value
within the SPEC's tolerance of the nearest rank), holes, behind and
duplicate ACKs; payload bytes per flow under their own line (with its
percentages); the two delay histograms bucket by bucket; totals: flows
(directions of tcp.stream), one-directional flows, packets, packets
without the TS option.
"""
import struct
import sys
from collections import defaultdict
from decimal import Decimal

import pytest

from conftest import PCAPS, ROOT

sys.path.insert(0, str(ROOT / "tools" / "craft"))
from craftlib import Capture, Conn, ms  # noqa: E402
from lib import fields  # noqa: E402

REAL = sorted("real/" + p.name for p in (PCAPS / "real").glob("*.pcap"))
CRAFTED = ["crafted/dupacks.pcap", "crafted/icmp_error.pcap", "crafted/ipv6.pcap",
           "crafted/port_reuse.pcap", "crafted/seq_rules.pcap", "crafted/syn_retransmit.pcap",
           "crafted/tcp_cut.pcap", "crafted/ts_more.pcap", "crafted/wraparound.pcap"]

FIELDS = (["tcp.stream", "tcp.srcport"]
          + fields.pick("flow", "payload", "tsrtd", "seqrtd", "pathrtd", "expert.hole",
                        "expert.behind", "dupack")
          + ["tcp.options.timestamp.tsval", "tcp.options.timestamp.tsecr"])

RTD_NODES = {"TS RTD (us)": "connmon.tsrtd", "Seq RTD (us)": "connmon.seqrtd"}
DIST_NODES = ["Half RTD (us)", "Path RTD (us)"]  # with p50, p90, p99 below
COUNT_NODES = {"Holes": "connmon.expert.hole", "Behind": "connmon.expert.behind",
               "Duplicate ACKs": "connmon.dupack"}
FLOW_NODES = list(RTD_NODES) + DIST_NODES + list(COUNT_NODES)
PERCENTILES = {"p50": 50, "p90": 90, "p99": 99}
HISTOGRAMS = {"Half RTD histogram (us)": "Half RTD (us)",
              "Path RTD histogram (us)": "Path RTD (us)"}
# the histogram buckets in us: 100 us .. 10 s in steps 1-2-5 (engine/sketch.h)
BOUNDS = [0, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000, 200000, 500000,
          1000000, 2000000, 5000000, 10000000]
BUCKETS = [f"{lo}-{hi - 1}" for lo, hi in zip(BOUNDS, BOUNDS[1:])] + [f"{BOUNDS[-1]}-"]
TOP = {"Flows", "Packets", "Payload bytes"} | set(HISTOGRAMS)
TOTALS = ["Flows", "One-directional", "Packets", "Without TS option"]


# --------------------------------------------------------------------------
# the printed tree


def parse_tree(out):
    """tshark's plain stats tree -> {path tuple: {column: text}}.

    The name column is as wide as the longest name (with its indent), then
    every column takes 1 + 13 characters."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Topic / Item"))
    assert lines[start - 1] == "connmon:"
    header = lines[start]
    width = header.index(" Count")
    columns = ["Count", "Average", "Min Val", "Max Val", "Rate (ms)", "Percent",
               "Burst Rate", "Burst Start"]
    assert header[width:].split() == " ".join(columns).split()
    assert set(lines[start + 1]) == {"-"}
    nodes = {}
    path = []
    for line in lines[start + 2:]:
        if not line.strip() or set(line) == {"-"}:
            continue
        name_part = line[:width]
        indent = len(name_part) - len(name_part.lstrip(" "))
        name = name_part.strip()
        values = {}
        for k, col in enumerate(columns):
            pos = width + 14 * k
            assert line[pos] == " ", f"column {col} not aligned: {line!r}"
            values[col] = line[pos + 1:pos + 14].strip()
        path = path[:indent] + [name]
        assert tuple(path) not in nodes, f"node twice: {path}"
        nodes[tuple(path)] = values
    return nodes


def tree_output(tshark, pcap, extra=(), tree="connmon,tree"):
    """pcap: a name under pcaps/ or a staged absolute path."""
    path = pcap if pcap.startswith("/") else tshark.pcap(pcap)
    return tshark.run(["-r", path, "-q", "-z", tree] + list(extra)).stdout


def avg_line(v):
    return (int(v["Count"]), v["Average"], v["Min Val"], v["Max Val"])


def tree_numbers(out):
    """The printed tree as {"totals": {name: count}, "flows": {label: {...}},
    "percentiles": {(label, node): {pX: columns}}, "bytes": {label: columns},
    "histograms": {name: [bucket columns]}}: a flow maps "Packets" and each
    count node to an int, each RTD node to (count, average text, min text,
    max text)."""
    nodes = parse_tree(out)
    assert set(p[0] for p in nodes) == TOP
    totals = {}
    for path in [("Flows",), ("Flows", "One-directional"), ("Packets",),
                 ("Packets", "Without TS option")]:
        totals[path[-1]] = int(nodes[path]["Count"])
    assert set(p for p in nodes if p[0] == "Flows") == {("Flows",), ("Flows", "One-directional")}
    flows, percentiles = {}, {}
    for path, v in nodes.items():
        if path[0] != "Packets" or len(path) != 2 or path[1] == "Without TS option":
            continue
        label = path[1]
        children = {p[2]: nodes[p] for p in nodes if len(p) == 3 and p[:2] == path}
        assert sorted(children) == sorted(FLOW_NODES), label
        f = {"Packets": int(v["Count"])}
        for name, cv in children.items():
            if name in RTD_NODES or name in DIST_NODES:
                f[name] = avg_line(cv)
            else:
                assert cv["Average"] == cv["Min Val"] == cv["Max Val"] == "", (label, name)
                f[name] = int(cv["Count"])
            below = {p[3]: nodes[p] for p in nodes if len(p) == 4 and p[:3] == path + (name,)}
            if name in DIST_NODES:
                assert sorted(below) == sorted(PERCENTILES), (label, name)
                percentiles[(label, name)] = below
            else:
                assert not below, (label, name)
        flows[label] = f
    assert not [p for p in nodes if len(p) > 4]
    assert not [p for p in nodes if len(p) > 2 and p[0] != "Packets"]
    bytes_ = {p[1]: nodes[p] for p in nodes if len(p) == 2 and p[0] == "Payload bytes"}
    histograms = {}
    for name in HISTOGRAMS:
        buckets = [p[1] for p in nodes if len(p) == 2 and p[0] == name]
        assert buckets == BUCKETS, name          # in this order
        histograms[name] = (nodes[(name,)], [nodes[(name, b)] for b in BUCKETS])
    return {"totals": totals, "flows": flows, "percentiles": percentiles,
            "bytes": (nodes[("Payload bytes",)], bytes_), "histograms": histograms}


# --------------------------------------------------------------------------
# the same numbers from -T fields


def f32(x):
    """x rounded to a single-precision float."""
    return struct.unpack("f", struct.pack("f", x))[0]


def avg_text(values):
    """stats_tree 4.0 prints an integer node's average as
    (float)total / count with "%.2f"."""
    return "%.2f" % f32(f32(sum(values)) / len(values))


def to_ns(seconds):
    return int(Decimal(seconds) * 1_000_000_000)


def to_us(seconds):
    return (to_ns(seconds) + 500) // 1000


def bucket_of(us):
    return max(i for i, lo in enumerate(BOUNDS) if us >= lo) if us >= 0 else 0


def expected_numbers(rows, keep=lambda f: True):
    """rows: {frame: {field: value}} from tshark.table; keep selects the
    packets the tree sees (a tap filter).  Returns the numbers as
    tree_numbers() gives them (totals, flows, payload bytes), the RTD
    samples {label: {node: [us]}} and the halves' and paths' exact values
    {label: {node: [ns]}}."""
    packets = no_ts = 0
    directions = defaultdict(set)  # tcp.stream -> labels seen
    flows = {}
    samples = defaultdict(lambda: defaultdict(list))
    exact = defaultdict(lambda: defaultdict(list))
    for _num, f in sorted(rows.items()):
        if "connmon.flow" not in f or not keep(f):
            continue
        label = f["connmon.flow"]
        packets += 1
        if not ("tcp.options.timestamp.tsval" in f and "tcp.options.timestamp.tsecr" in f):
            no_ts += 1
        directions[f["tcp.stream"]].add(label)
        fl = flows.setdefault(label, dict({"Packets": 0, "Payload bytes": 0},
                                          **{n: 0 for n in COUNT_NODES}))
        fl["Packets"] += 1
        fl["Payload bytes"] += int(f["connmon.payload"])
        for node, field in COUNT_NODES.items():
            fl[node] += field in f
        for node, field in RTD_NODES.items():
            if field in f:
                samples[label][node].append(to_us(f[field]))
        half = f.get("connmon.tsrtd", f.get("connmon.seqrtd"))
        for node, value in (("Half RTD (us)", half), ("Path RTD (us)", f.get("connmon.pathrtd"))):
            if value is not None:
                samples[label][node].append(to_us(value))
                exact[label][node].append(to_ns(value))
    for label, fl in flows.items():
        for node in list(RTD_NODES) + DIST_NODES:
            v = samples[label][node]
            fl[node] = ((len(v), avg_text(v), str(min(v)), str(max(v))) if v
                        else (0, "-", "-", "-"))
    totals = {"Flows": sum(len(labels) for labels in directions.values()),
              "One-directional": sum(len(labels) == 1 for labels in directions.values()),
              "Packets": packets, "Without TS option": no_ts}
    return {"totals": totals, "flows": flows}, samples, exact


def check_percentiles(got, exact):
    """pX lines: count = the nearest rank k, min = max = the value, within
    the SPEC's tolerance of the k-th smallest (1 % of it or 1 us, whichever
    is larger); Percent = k / n."""
    for label, fl in got["flows"].items():
        for node in DIST_NODES:
            lines = got["percentiles"][(label, node)]
            values = sorted(exact[label][node])
            n = len(values)
            assert fl[node][0] == n
            for name, pct in PERCENTILES.items():
                v = lines[name]
                if n == 0:
                    assert avg_line(v) == (0, "-", "-", "-"), (label, node, name)
                    continue
                k = max(1, (pct * n + 99) // 100)
                assert int(v["Count"]) == k, (label, node, name)
                assert v["Min Val"] == v["Max Val"], (label, node, name)
                shown = int(v["Min Val"]) * 1000
                want = values[k - 1]
                assert abs(shown - want) <= max(want / 100, 1000), \
                    f"{label} {node} {name}: {shown} ns shown, nearest rank {want} ns"
                assert v["Average"] == avg_text([int(v["Min Val"])] * k)
                assert abs(float(v["Percent"].rstrip("%")) - 100 * k / n) <= 0.006
                if k in (1, n):   # the ends are exact
                    assert shown == (want + 500) // 1000 * 1000


def check_bytes(got, want):
    """Payload bytes: a line of its own whose count is the bytes of every
    flow, and one line per flow with its bytes and its share."""
    root, lines = got["bytes"]
    total = sum(fl["Payload bytes"] for fl in want["flows"].values())
    assert int(root["Count"]) == total and root["Percent"] == "100%"
    assert root["Average"] == root["Min Val"] == root["Max Val"] == ""
    assert sorted(lines) == sorted(want["flows"])
    for label, v in lines.items():
        b = want["flows"][label]["Payload bytes"]
        assert int(v["Count"]) == b, label
        assert v["Average"] == v["Min Val"] == v["Max Val"] == "", label
        if total:
            assert abs(float(v["Percent"].rstrip("%")) - 100 * b / total) <= 0.006, label
        else:
            assert v["Percent"] == "", label


def check_histograms(got, samples):
    """Every half and every path in its bucket (by its value in us)."""
    for name, node in HISTOGRAMS.items():
        root, buckets = got["histograms"][name]
        values = [us for by_node in samples.values() for us in by_node[node]]
        counts = [0] * len(BUCKETS)
        for us in values:
            counts[bucket_of(us)] += 1
        assert [int(b["Count"]) for b in buckets] == counts, name
        assert int(root["Count"]) == len(values), name
        if values:
            assert (root["Min Val"], root["Max Val"]) == (str(min(values)), str(max(values)))
            assert root["Average"] == avg_text(values)
        for b, c in zip(buckets, counts):
            if c:
                assert abs(float(b["Percent"].rstrip("%")) - 100 * c / len(values)) <= 0.006


def check_tree(tshark, pcap, tree="connmon,tree", keep=lambda f: True):
    """Runs the tree (tree: the -z argument, keep: what its filter keeps)
    and compares every number with the fields; returns the numbers."""
    want, samples, exact = expected_numbers(tshark.table(pcap, FIELDS), keep)
    got = tree_numbers(tree_output(tshark, pcap, tree=tree))
    assert got["totals"] == want["totals"]
    assert sorted(got["flows"]) == sorted(want["flows"])
    for label, fl in want["flows"].items():
        bytes_ = fl.pop("Payload bytes")
        assert got["flows"][label] == fl, label
        fl["Payload bytes"] = bytes_
    check_bytes(got, want)
    check_percentiles(got, exact)
    check_histograms(got, samples)
    # the printed average (float arithmetic) is also the true mean, to the
    # printed precision plus the float's relative error
    for label, by_node in samples.items():
        for node, v in by_node.items():
            if not v:
                continue
            mean = sum(v) / len(v)
            assert abs(float(got["flows"][label][node][1]) - mean) <= 0.005 + 1e-6 * mean
    return got


# --------------------------------------------------------------------------
# a capture with one-directional flows


def one_way_capture(path):
    """Stream 0: a full exchange.  Stream 1: SYN and its retransmission,
    never answered.  Stream 2: data one way only (asymmetric routing), with
    a hole, a packet without the TS option and a retransmission."""
    cap = Capture()
    c = Conn(cap, "10.0.0.1", 40000, "10.0.0.2", 80)
    c.a(ms(0), "S", 1000, 0, win=64240, ts=(100, 0))
    c.b(ms(10), "SA", 5000, 1001, win=65160, ts=(500, 100))
    c.a(ms(20), "A", 1001, 5001, ts=(101, 500))
    c.a(ms(21), "PA", 1001, 5001, data=100, ts=(102, 500))
    c.b(ms(46), "A", 5001, 1101, ts=(501, 102))
    s = Conn(cap, "10.0.0.5", 50000, "10.0.0.6", 443)
    s.a(ms(30), "S", 7000, 0, win=64240, ts=(900, 0))
    s.a(ms(1030), "S", 7000, 0, win=64240, ts=(901, 0))
    d = Conn(cap, "10.0.0.7", 51000, "10.0.0.8", 8080)
    d.a(ms(40), "PA", 20000, 90000, data=500, ts=(3000, 8000))
    d.a(ms(41), "PA", 20500, 90000, data=500, ts=(3001, 8000))
    d.a(ms(43), "PA", 21500, 90000, data=500, ts=(3002, 8000))  # hole of 500
    d.a(ms(44), "PA", 22000, 90000, data=300)                   # no TS option
    d.a(ms(60), "PA", 20500, 90000, data=500, ts=(3004, 8000))  # behind
    cap.write(path)


@pytest.fixture(scope="module")
def one_way_pcap(tshark, tmp_path_factory):
    path = tmp_path_factory.mktemp("stats") / "one_way.pcap"
    one_way_capture(path)
    return tshark.stage_file(path)


# --------------------------------------------------------------------------
# tests


def test_registered(tshark):
    proc = tshark.run(["-z", "help"])  # the list goes to stderr
    assert "connmon,tree" in (proc.stdout + proc.stderr).split()


@pytest.mark.parametrize("pcap", REAL + CRAFTED)
def test_tree_matches_fields(tshark, pcap):
    got = check_tree(tshark, pcap)
    assert got["totals"]["Packets"] > 0


def test_nots_capture(tshark):
    got = check_tree(tshark, "real/nots.pcap")
    t = got["totals"]
    assert t["Without TS option"] == t["Packets"] > 0
    for label, fl in got["flows"].items():
        assert fl["TS RTD (us)"] == (0, "-", "-", "-"), label
        assert fl["Seq RTD (us)"][0] > 0, label


def test_one_directional_flows(tshark, one_way_pcap):
    got = check_tree(tshark, one_way_pcap)
    # by hand: streams 1 and 2 are seen one way only
    assert got["totals"] == {"Flows": 4, "One-directional": 2, "Packets": 12,
                             "Without TS option": 1}
    d = got["flows"]["10.0.0.7:51000+10.0.0.8:8080"]
    assert d["Packets"] == 5 and int(got["bytes"][1]["10.0.0.7:51000+10.0.0.8:8080"]["Count"]) == 2300
    assert (d["Holes"], d["Behind"], d["Duplicate ACKs"]) == (1, 1, 0)
    a = got["flows"]["10.0.0.2:80+10.0.0.1:40000"]
    # SYN-ACK 10 ms after the SYN; the ACK of the data 25 ms after it
    assert a["TS RTD (us)"] == (2, "17500.00", "10000", "25000")
    assert a["Seq RTD (us)"] == (2, "17500.00", "10000", "25000")
    assert a["Half RTD (us)"] == (2, "17500.00", "10000", "25000")
    # p50 of two is the first, p90 and p99 the second: exact at the ends
    p = got["percentiles"][("10.0.0.2:80+10.0.0.1:40000", "Half RTD (us)")]
    assert [(p[n]["Count"], p[n]["Min Val"]) for n in ("p50", "p90", "p99")] == \
        [("1", "10000"), ("2", "25000"), ("2", "25000")]


def test_port_reuse_counts_streams(tshark):
    """Flows count directions of tcp.stream; the per-flow lines go by label,
    so a reused port pair adds up on one line."""
    rows = tshark.table("crafted/port_reuse.pcap", FIELDS)
    labels = {f["connmon.flow"] for f in rows.values() if "connmon.flow" in f}
    got = check_tree(tshark, "crafted/port_reuse.pcap")
    assert got["totals"]["Flows"] > len(labels) == len(got["flows"])


def test_tap_filter(tshark):
    """-z connmon,tree,FILTER: the tree sees only the matching packets, so
    every flow left is one-directional."""
    got = check_tree(tshark, "real/ipv4_delay_loss.pcap", tree="connmon,tree,tcp.srcport==5001",
                     keep=lambda f: f["tcp.srcport"] == "5001")
    assert got["totals"]["Flows"] == got["totals"]["One-directional"] == 2
    assert len(got["flows"]) == 2


@pytest.mark.parametrize("pcap", ["real/ipv4_delay_loss.pcap", "real/reorder.pcap",
                                  "real/nots.pcap", "crafted/port_reuse.pcap"])
def test_two_pass_identical(tshark, pcap):
    one = tree_output(tshark, pcap)
    two = tree_output(tshark, pcap, ["-2"])
    assert "connmon:" in one
    assert one == two


def test_two_pass_identical_one_way(tshark, one_way_pcap):
    assert tree_output(tshark, one_way_pcap) == tree_output(tshark, one_way_pcap, ["-2"])


def test_two_trees_at_once(tshark):
    """Two trees in one run keep separate counts."""
    pcap = tshark.pcap("real/parallel_flows.pcap")
    one = tshark.run(["-r", pcap, "-q", "-z", "connmon,tree"]).stdout
    both = tshark.run(["-r", pcap, "-q", "-z", "connmon,tree", "-z", "connmon,tree"]).stdout
    assert both == one + one
