"""connmon.pathrtd (SPEC v4, "End-to-end round trips").

Three kinds of check:
  - hand-derived exact values on a crafted capture;
  - on every bundled capture, pathrtd re-derived in Python from the SPEC
    rule and connmon's own halves (tsrtd, else seqrtd), frame by frame,
    with the default and a short rtd_max_age;
  - on the real captures made mid-path through a delay line, the smallest
    end-to-end sample sits on the delay line's floor: the two halves of
    the path add up.
"""
from decimal import Decimal

import pytest

from conftest import PCAPS
from test_crafted_common import sec

HALF_FIELDS = ["frame.time_epoch", "tcp.stream", "connmon.flow", "connmon.tsrtd",
               "connmon.seqrtd", "connmon.pathrtd", "connmon.pathrtd.frame"]
ALL_CAPTURES = sorted(str(p.relative_to(PCAPS)) for p in PCAPS.glob("*/*.pcap"))


def reverse_label(label):
    src, dst = label.split("+")
    return dst + "+" + src


def expected_pathrtd(rows, max_age):
    """{frame: (pathrtd, frame_R)} by the SPEC rule, from the halves."""
    latest = {}   # (stream, flow label) -> (half, t, frame)
    out = {}
    for num in sorted(rows):
        f = rows[num]
        half = f.get("connmon.tsrtd", f.get("connmon.seqrtd"))
        if half is None:
            continue
        t = Decimal(f["frame.time_epoch"])
        rev = latest.get((f["tcp.stream"], reverse_label(f["connmon.flow"])))
        if rev is not None and Decimal(0) <= t - rev[1] <= max_age:
            out[num] = (Decimal(half) + rev[0], rev[2])
        latest[(f["tcp.stream"], f["connmon.flow"])] = (Decimal(half), t, num)
    return out


def got_pathrtd(rows):
    return {num: (Decimal(f["connmon.pathrtd"]), int(f["connmon.pathrtd.frame"]))
            for num, f in rows.items() if "connmon.pathrtd" in f}


def test_handshake_basic_exact(tshark):
    # Halves from test_crafted_handshake (hand-derived there): AB 3:10 6:10
    # 9:10, BA 2:10 5:25 8:15; stream 1: BC 11:10 13:10 15:15, CB 12:5.
    rows = tshark.table("crafted/handshake_basic.pcap",
                        ["connmon.pathrtd", "connmon.pathrtd.frame"])
    got = {n: (f["connmon.pathrtd"], f["connmon.pathrtd.frame"])
           for n, f in rows.items() if f}
    assert got == {
        3: (sec(20), "2"),    # 10 + frame 2's 10 (frame 2 found no AB half)
        5: (sec(35), "3"),    # 25 + 10
        6: (sec(35), "5"),    # 10 + 25
        8: (sec(25), "6"),    # 15 + 10
        9: (sec(25), "8"),    # 10 + 15
        12: (sec(15), "11"),  # 5 + 10 (frame 11: CB had no half yet)
        13: (sec(15), "12"),  # 10 + 5
        15: (sec(20), "12"),  # 15 + frame 12's 5: R's half is not used up
    }


@pytest.mark.parametrize("pcap", ALL_CAPTURES)
def test_pathrtd_follows_the_rule(tshark, pcap):
    rows = tshark.table(pcap, HALF_FIELDS)
    assert got_pathrtd(rows) == expected_pathrtd(rows, Decimal(10))


def test_pathrtd_max_age(tshark):
    """rtd_max_age bounds how old the reverse half may be (P's own time)."""
    pcap = "real/bottleneck.pcap"
    rows = tshark.table(pcap, HALF_FIELDS, ["-o", "connmon.rtd_max_age:0.05"])
    got = got_pathrtd(rows)
    assert got == expected_pathrtd(rows, Decimal("0.05"))
    # not vacuous: the bound removes pairs the default keeps
    default = tshark.table(pcap, HALF_FIELDS)
    assert len(got) < len(got_pathrtd(default))


# Delay line of tools/mkcaptures/make-real-captures.sh: one-way ms on A's
# and B's side; a half is twice its side's delay, the path both.
DELAYS = {"ipv4_delay_loss": (10, 10), "ipv6_bulk": (5, 30), "parallel_flows": (8, 12),
          "reorder": (5, 5), "bottleneck": (5, 5), "nots": (10, 10), "snaplen64": (10, 10),
          "raw_ip": (3, 7)}


@pytest.mark.parametrize("name", sorted(DELAYS))
def test_mid_path_floor(tshark, name):
    rows = tshark.table(f"real/{name}.pcap", ["connmon.pathrtd"])
    values = [Decimal(f["connmon.pathrtd"]) for f in rows.values() if f]
    assert len(values) >= 50
    floor = Decimal(2 * sum(DELAYS[name])) / 1000
    # The forwarder's timers release a little early or late; no sample can
    # be far below the floor, and the best ones sit on it.
    assert floor * Decimal("0.9") <= min(values) <= floor * Decimal("1.05")
