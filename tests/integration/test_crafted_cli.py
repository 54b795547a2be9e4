"""tshark usage on the crafted captures: display filters, two-pass (-2),
-Y not changing values, I/O statistics."""
import re

import pytest

from test_crafted_common import FIELDS, ROOT, connmon_table

CRAFTED = sorted(p.name for p in (ROOT / "pcaps" / "crafted").glob("*.pcap"))


def frames(tshark, pcap, flt, extra=()):
    rows = tshark.fields(pcap, ["frame.number"], list(extra) + ["-Y", flt])
    return [int(r[0]) for r in rows]


def test_tsrtd_filters(tshark):
    pcap = "crafted/handshake_basic.pcap"
    # tsrtd values (hand-derived, see test_crafted_handshake): 2: 10, 3: 10,
    # 5: 25, 6: 10, 8: 15, 9: 10, 15: 15 ms.
    assert frames(tshark, pcap, "connmon.tsrtd > 0.02") == [5]
    assert frames(tshark, pcap, "connmon.tsrtd > 0.012") == [5, 8, 15]
    assert frames(tshark, pcap, "connmon.tsrtd") == [2, 3, 5, 6, 8, 9, 15]
    assert frames(tshark, pcap, "connmon.tsrtd == 0.025") == [5]
    assert frames(tshark, pcap, "connmon.tsrtd.frame == 14") == [15]
    # seqrtd: 2,3,5,6,8,9 and 11,12,13,15 (stream 1); 12 is the 5 ms one
    assert frames(tshark, pcap, "connmon.seqrtd < 0.01") == [12]
    assert frames(tshark, pcap, "connmon.minrtd == 0.005") == [12]
    assert frames(tshark, pcap, "connmon.flowbytes >= 200") == [5, 8]
    assert frames(tshark, pcap, 'connmon.flow contains "10.0.0.3"') == list(range(10, 16))
    assert frames(tshark, pcap, 'connmon.flow == "10.0.0.3:41000+10.0.0.2:80"') == [10, 12, 14]
    assert frames(tshark, pcap, "connmon.payload == 50 && connmon.seqgap == 0") == [12, 14]
    assert frames(tshark, pcap, "!connmon.seqgap") == [1, 2, 10, 11]


@pytest.mark.parametrize("pcap", CRAFTED)
def test_two_pass_identical(tshark, pcap):
    one = tshark.fields("crafted/" + pcap, FIELDS)
    two = tshark.fields("crafted/" + pcap, FIELDS, ["-2"])
    assert one == two


@pytest.mark.parametrize("pcap,flt", [
    ("handshake_basic.pcap", "tcp.srcport == 80"),
    ("ts_rules.pcap", "frame.number > 10"),
    ("dupacks.pcap", "connmon.dupack"),
    ("max_age.pcap", "ip.src == 10.0.0.2"),
    ("icmp_error.pcap", "ipv6"),
])
@pytest.mark.parametrize("two_pass", [False, True])
def test_display_filter_keeps_values(tshark, pcap, flt, two_pass):
    full = connmon_table(tshark, "crafted/" + pcap)
    extra = ["-Y", flt] + (["-2"] if two_pass else [])
    part = connmon_table(tshark, "crafted/" + pcap, extra)
    assert part, "filter selected nothing"
    assert len(part) < len(full)
    for f, vals in part.items():
        assert vals == full[f], f


def test_read_of_prefs_and_filter_combined(tshark):
    # a mode set with -o applies with -Y and -2 alike
    pcap = "crafted/pure_ack_modes.pcap"
    for extra in ([], ["-2"]):
        assert frames(tshark, pcap, "connmon.tsrtd > 0.5",
                      ["-o", "connmon.ts_pure_acks:all"] + extra) == [7]
        assert frames(tshark, pcap, "connmon.tsrtd > 0.5", extra) == []


def test_io_stat(tshark):
    pcap = tshark.pcap("crafted/handshake_basic.pcap")
    out = tshark.run(["-r", pcap, "-q", "-z",
                      "io,stat,0,MIN(connmon.tsrtd)connmon.tsrtd,"
                      "MAX(connmon.tsrtd)connmon.tsrtd,"
                      "COUNT(connmon.tsrtd)connmon.tsrtd,"
                      "AVG(connmon.tsrtd)connmon.tsrtd"]).stdout
    # 7 samples: 10, 10, 25, 10, 15, 10, 15 ms -> min 0.010, max 0.025,
    # avg 95/7 = 13.571 ms
    line = [l for l in out.splitlines() if re.search(r"\d+\s*<>\s*\w+", l)]
    assert line, out
    nums = re.findall(r"\d+\.\d+|\b\d+\b", line[-1].split("|", 2)[2])
    assert nums[:4] == ["0.010000", "0.025000", "7", "0.013571"], out
