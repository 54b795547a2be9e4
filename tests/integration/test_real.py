"""The plugin on real Linux TCP captures (pcaps/real, made by
tools/mkcaptures): values re-derived from Wireshark's own TCP fields,
agreement with Wireshark's TCP analysis, and stability across tshark modes.
"""
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import PCAPS
from lib import fields  # tools/ is on sys.path (conftest.py)

REAL = sorted(p.name for p in (PCAPS / "real").glob("*.pcap"))
TS_REAL = [n for n in REAL if n not in ("nots.pcap", "snaplen64.pcap")]

CONNMON = fields.FIELDS
TCP = ["frame.time_epoch", "tcp.stream", "ip.src", "ipv6.src", "tcp.srcport", "ip.dst",
       "ipv6.dst", "tcp.dstport", "tcp.seq_raw", "tcp.ack_raw", "tcp.len", "tcp.flags.syn",
       "tcp.flags.fin", "tcp.flags.reset", "tcp.flags.ack", "tcp.options.timestamp.tsval",
       "tcp.options.timestamp.tsecr"]


def test_real_captures_present():
    # the suite must not silently shrink: the generator makes these
    for name in ["ipv4_delay_loss.pcap", "ipv6_bulk.pcap", "parallel_flows.pcap",
                 "reorder.pcap", "bottleneck.pcap", "nots.pcap", "snaplen64.pcap",
                 "raw_ip.pcap"]:
        assert name in REAL
        assert (PCAPS / "real" / name).stat().st_size <= 2 * 1024 * 1024


@pytest.fixture(scope="module")
def frames(tshark):
    """{capture: {frame: {field: value}}} with TCP and connmon fields."""
    return {name: tshark.table("real/" + name, TCP + CONNMON) for name in REAL}


def seqlen(f):
    return int(f["tcp.len"]) + int(f["tcp.flags.syn"] == "1") + int(f["tcp.flags.fin"] == "1")


def sender(f):
    src = f.get("ip.src") or "[%s]" % f["ipv6.src"]
    dst = f.get("ip.dst") or "[%s]" % f["ipv6.dst"]
    return f"{src}:{f['tcp.srcport']}+{dst}:{f['tcp.dstport']}"


@pytest.mark.parametrize("name", REAL)
def test_per_packet_bookkeeping(frames, name):
    """payload, flowbytes, flow and seqgap re-derived from tcp.* fields."""
    table = frames[name]
    flowbytes = defaultdict(int)
    high_end = {}
    analysed = 0
    for num, f in sorted(table.items()):
        if "tcp.stream" not in f:
            assert "connmon.flow" not in f
            continue
        analysed += 1
        key = (f["tcp.stream"], f["tcp.srcport"], f.get("ip.src") or f.get("ipv6.src"))
        assert f["connmon.payload"] == f["tcp.len"]
        flowbytes[key] += int(f["tcp.len"])
        assert int(f["connmon.flowbytes"]) == flowbytes[key], num
        assert f["connmon.flow"] == sender(f)
        seq, end = int(f["tcp.seq_raw"]), (int(f["tcp.seq_raw"]) + seqlen(f)) % 2**32
        if key in high_end:
            gap = (seq - high_end[key]) % 2**32
            gap = gap - 2**32 if gap >= 2**31 else gap
            assert int(f["connmon.seqgap"]) == gap, num
            # no zero-window probes in these captures: high_end is the serial max
            if 0 < (end - high_end[key]) % 2**32 < 2**31:
                high_end[key] = end
        else:
            assert "connmon.seqgap" not in f, num
            high_end[key] = end
    assert analysed == len(table)  # every frame of these captures is TCP


@pytest.mark.parametrize("name", REAL)
def test_samples_point_at_their_start(frames, name):
    """Every sample is exactly the time since the frame it names, and that
    frame is the TSval echoed / the segment whose end is acknowledged."""
    table = frames[name]
    counts = defaultdict(int)
    for num, f in table.items():
        t = Decimal(f["frame.time_epoch"])
        if "connmon.tsrtd" in f:
            counts["ts"] += 1
            start = table[int(f["connmon.tsrtd.frame"])]
            assert Decimal(f["connmon.tsrtd"]) == t - Decimal(start["frame.time_epoch"])
            assert start["tcp.options.timestamp.tsval"] == f["tcp.options.timestamp.tsecr"]
            assert start["tcp.stream"] == f["tcp.stream"]
            assert start["tcp.srcport"] == f["tcp.dstport"]
            assert f["tcp.flags.ack"] == "1"
        if "connmon.seqrtd" in f:
            counts["seq"] += 1
            start = table[int(f["connmon.seqrtd.frame"])]
            assert Decimal(f["connmon.seqrtd"]) == t - Decimal(start["frame.time_epoch"])
            end = (int(start["tcp.seq_raw"]) + seqlen(start)) % 2**32
            assert end == int(f["tcp.ack_raw"]), num
            assert start["tcp.srcport"] == f["tcp.dstport"]
        if "connmon.tsrtd" in f or "connmon.seqrtd" in f:
            assert "connmon.minrtd" in f
        else:
            assert "connmon.minrtd" not in f
    if name in TS_REAL:
        assert counts["ts"] > 20
    if name != "snaplen64.pcap":
        assert counts["seq"] > 20


@pytest.mark.parametrize("name", REAL)
def test_minrtd_is_running_minimum(frames, name):
    best = {}
    for num, f in sorted(frames[name].items()):
        samples = [Decimal(f[k]) for k in ("connmon.tsrtd", "connmon.seqrtd") if k in f]
        if not samples:
            continue
        flow = f["connmon.flow"]
        best[flow] = min([best.get(flow, samples[0])] + samples)
        assert Decimal(f["connmon.minrtd"]) == best[flow], num


def test_nots_has_no_ts_samples(frames):
    assert not any("connmon.tsrtd" in f for f in frames["nots.pcap"].values())
    assert sum("connmon.seqrtd" in f for f in frames["nots.pcap"].values()) > 100


def test_snaplen_cut_ts_option_counts_as_absent(frames):
    """snaplen 64 on Ethernet cuts every TS option: no TS samples, but the
    headers are analysed (seq samples, gaps)."""
    table = frames["snaplen64.pcap"]
    assert not any("connmon.tsrtd" in f for f in table.values())
    assert sum("connmon.seqrtd" in f for f in table.values()) > 100


def test_bottleneck_rtt_grows(frames):
    """A queue building at a bottleneck shows as growing TS round trips of
    the bulk data's ACKs... seen from the sender side as growing samples."""
    samples = [Decimal(f["connmon.tsrtd"]) for _, f in sorted(frames["bottleneck.pcap"].items())
               if "connmon.tsrtd" in f]
    assert len(samples) > 100
    assert max(samples) > Decimal("0.1")
    first = sorted(samples[:20])[10]
    assert max(samples) > 4 * first


def test_ipv6_flow_strings(frames):
    flows = {f["connmon.flow"] for f in frames["ipv6_bulk.pcap"].values()}
    assert flows and all(fl.startswith("[fd00:c0::") and "]:" in fl for fl in flows)


# ---- agreement with Wireshark's own TCP analysis --------------------------------

def frame_set(tshark, pcap, dfilter):
    return set(tshark.matching_frames(pcap, dfilter))


WIRESHARK_BEHIND = ("tcp.analysis.retransmission || tcp.analysis.fast_retransmission || "
                    "tcp.analysis.spurious_retransmission || tcp.analysis.out_of_order")


@pytest.mark.parametrize("name", [n for n in REAL if n != "snaplen64.pcap"])
def test_experts_agree_with_wireshark(tshark, name):
    pcap = "real/" + name
    hole = frame_set(tshark, pcap, "connmon.expert.hole")
    assert hole == frame_set(tshark, pcap, "tcp.analysis.lost_segment")
    behind = frame_set(tshark, pcap, "connmon.expert.behind")
    assert behind == frame_set(tshark, pcap, WIRESHARK_BEHIND)
    dup = frame_set(tshark, pcap, "connmon.dupack")
    assert dup == frame_set(tshark, pcap, "connmon.expert.dupack")
    wireshark_dup = frame_set(tshark, pcap, "tcp.analysis.duplicate_ack")
    if tshark.at_least(4, 4):
        assert dup == wireshark_dup
    else:
        # Wireshark 4.0 still wants an unchanged window: it misses exactly
        # the SACK-bearing ACKs whose window changed (SPEC v4).
        assert wireshark_dup <= dup
        assert dup - wireshark_dup == dup & sack_window_changes(tshark, pcap)


def sack_window_changes(tshark, pcap):
    """Frames that carry a SACK block and whose window differs from the
    previous packet of their flow (re-derived from tcp.* fields)."""
    rows = tshark.fields(pcap, ["frame.number", "tcp.stream", "tcp.srcport", "tcp.dstport",
                                "tcp.window_size_value", "tcp.options.sack_le"], ["-Y", "tcp"])
    prev_window, frames = {}, set()
    for num, stream, sport, dport, window, sack_le in rows:
        flow = (stream, sport, dport)
        if sack_le and flow in prev_window and prev_window[flow] != window:
            frames.add(int(num))
        prev_window[flow] = window
    return frames


def test_wireshark_40_misses_sack_duplicates_only(tshark):
    """The SACK rule matters on real Linux TCP with loss: on Wireshark 4.0
    connmon flags duplicates it does not, and all of them are SACK ACKs
    with a changed window; on 4.4+ the two agree frame for frame."""
    pcap = "real/bottleneck.pcap"
    dup = frame_set(tshark, pcap, "connmon.dupack")
    wireshark_dup = frame_set(tshark, pcap, "tcp.analysis.duplicate_ack")
    extra = dup & sack_window_changes(tshark, pcap)
    assert len(extra) >= 1
    if tshark.at_least(4, 4):
        assert dup == wireshark_dup
    else:
        assert dup - wireshark_dup == extra


def test_snaplen_cut_options_still_analysed(tshark):
    """Wireshark's quirk: when the snaplen cuts the TCP options, its option
    dissection throws before the sequence analysis is added, so it flags
    nothing. connmon analyses these headers (SPEC) and still finds the
    hole, the retransmissions and the duplicate ACKs."""
    pcap = "real/snaplen64.pcap"
    assert frame_set(tshark, pcap, "tcp.analysis.flags") == set()
    assert len(frame_set(tshark, pcap, "connmon.expert.hole")) >= 1
    assert len(frame_set(tshark, pcap, "connmon.expert.behind")) >= 1
    assert len(frame_set(tshark, pcap, "connmon.dupack")) >= 5


def test_real_captures_show_loss_and_dupacks(tshark):
    """The agreement above is not vacuous."""
    pcap = "real/ipv4_delay_loss.pcap"
    assert len(frame_set(tshark, pcap, "connmon.expert.hole")) >= 2
    assert len(frame_set(tshark, pcap, "connmon.expert.behind")) >= 2
    assert len(frame_set(tshark, pcap, "connmon.dupack")) >= 5
    assert len(frame_set(tshark, "real/reorder.pcap", "connmon.expert.behind")) >= 5


def test_dupack_fields_match_wireshark(tshark):
    rows = tshark.table("real/ipv4_delay_loss.pcap",
                        ["connmon.dupack.num", "connmon.dupack.frame",
                         "tcp.analysis.duplicate_ack_num", "tcp.analysis.duplicate_ack_frame",
                         "connmon.dupack", "frame.time_epoch"])
    # Wireshark 4.0 does not count SACK ACKs with a changed window (SPEC v4):
    # after one of those, its numbering of the same original differs.
    sack_dups = set()
    if not tshark.at_least(4, 4):
        sack_dups = sack_window_changes(tshark, "real/ipv4_delay_loss.pcap")
    n = 0
    for num, f in rows.items():
        if "connmon.dupack" not in f:
            continue
        n += 1
        after_sack_dup = any(s <= num and rows[s].get("connmon.dupack.frame") ==
                             f["connmon.dupack.frame"] for s in sack_dups)
        if not after_sack_dup:
            assert f["connmon.dupack.num"] == f["tcp.analysis.duplicate_ack_num"]
            assert f["connmon.dupack.frame"] == f["tcp.analysis.duplicate_ack_frame"]
        orig = rows[int(f["connmon.dupack.frame"])]
        assert Decimal(f["connmon.dupack"]) == (Decimal(f["frame.time_epoch"]) -
                                                Decimal(orig["frame.time_epoch"]))
    assert n >= 5


# ---- tshark modes: one pass, two passes, filters, exports, statistics ------------

ALL_FIELDS = ["frame.number"] + CONNMON


@pytest.mark.parametrize("name", ["ipv4_delay_loss.pcap", "parallel_flows.pcap"])
def test_two_pass_identical(tshark, name):
    one = tshark.fields("real/" + name, ALL_FIELDS)
    two = tshark.fields("real/" + name, ALL_FIELDS, ["-2"])
    assert one == two
    assert sum(1 for r in one if r[1]) > 50


def test_display_filter_never_changes_values(tshark):
    pcap = "real/parallel_flows.pcap"
    full = {r[0]: r for r in tshark.fields(pcap, ALL_FIELDS)}
    for flt in ["connmon.tsrtd > 0.03", "tcp.len > 0", "frame.number > 1000",
                "connmon.expert.behind", "connmon.dupack"]:
        part = tshark.fields(pcap, ALL_FIELDS, ["-Y", flt])
        assert part, flt
        for r in part:
            assert r == full[r[0]], flt
    # two-pass filtering too
    for r in tshark.fields(pcap, ALL_FIELDS, ["-2", "-Y", "connmon.seqrtd > 0.02"]):
        assert r == full[r[0]]


def test_filter_selects_by_value(tshark):
    pcap = "real/bottleneck.pcap"
    table = tshark.table(pcap, ["connmon.tsrtd"])
    want = {n for n, f in table.items() if "connmon.tsrtd" in f
            and Decimal(f["connmon.tsrtd"]) > Decimal("0.1")}
    assert want
    assert frame_set(tshark, pcap, "connmon.tsrtd > 0.1") == want


def test_io_stat_avg_max(tshark):
    pcap = "real/bottleneck.pcap"
    rows = tshark.fields(pcap, ["frame.time_relative", "connmon.tsrtd"])
    per = defaultdict(list)
    for rel, v in rows:
        if v:
            per[int(Decimal(rel) // 1)].append(Decimal(v))
    out = tshark.run(["-r", tshark.pcap(pcap), "-q", "-z",
                      "io,stat,1,AVG(connmon.tsrtd)connmon.tsrtd,"
                      "MAX(connmon.tsrtd)connmon.tsrtd,COUNT(connmon.tsrtd)connmon.tsrtd"]).stdout
    seen = 0
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 4 or "<>" not in cells[0]:
            continue
        start = cells[0].split("<>")[0].strip()
        if not start.isdigit():
            continue
        vals = per.get(int(start), [])
        avg, mx, cnt = Decimal(cells[1]), Decimal(cells[2]), int(cells[3])
        assert cnt == len(vals)
        if vals:
            seen += 1
            assert abs(avg - sum(vals) / len(vals)) < Decimal("0.000001")
            assert abs(mx - max(vals)) < Decimal("0.000001")
    assert seen >= 2


def test_fields_export_csv(tshark):
    out = tshark.run(["-r", tshark.pcap("real/ipv4_delay_loss.pcap"), "-Y", "connmon.tsrtd",
                      "-T", "fields", "-E", "header=y", "-E", "separator=,",
                      "-e", "frame.number", "-e", "connmon.tsrtd", "-e", "connmon.flow"]).stdout
    lines = out.splitlines()
    assert lines[0] == "frame.number,connmon.tsrtd,connmon.flow"
    for line in lines[1:]:
        num, rtd, flow = line.split(",")
        assert Decimal(rtd) > 0 and "+" in flow


def test_preferences_change_values(tshark):
    pcap = "real/parallel_flows.pcap"
    def count(*opts):
        args = []
        for o in opts:
            args += ["-o", o]
        return len(tshark.fields(pcap, ["frame.number"], args + ["-Y", "connmon.tsrtd"]))
    clocked, every, none = (count("connmon.ts_pure_acks:" + m) for m in ("clocked", "all", "none"))
    assert every >= clocked >= none
    assert every > none
    assert count() == clocked
    # a tiny max age forgets every pending start
    assert count("connmon.rtd_max_age:0.000001") == 0
    assert count("connmon.rtd_max_age:10") == clocked


def test_disabled_protocol_adds_nothing(tshark):
    rows = tshark.fields("real/ipv4_delay_loss.pcap", ALL_FIELDS,
                         ["--disable-protocol", "connmon"])
    assert rows and all(all(c == "" for c in r[1:]) for r in rows)
