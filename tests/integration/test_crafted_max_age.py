"""rtd_max_age: forgetting, the exact boundary, tmax from the stream's other
packets, decimal parsing (round to nearest ns, ties to even) and rejected
values (crafted capture max_age.pcap; expectations derived by hand from
SPEC.md)."""
import pytest

from test_crafted_common import assert_frames, connmon_table, row

PCAP = "crafted/max_age.pcap"
AB = "10.0.0.1:40004+10.0.0.2:80"
BA = "10.0.0.2:80+10.0.0.1:40004"

# Frames whose values do not depend on the max age (every round trip there
# is 10 ms, or there is none).
COMMON = {
    1: row(AB, 0, 0),
    2: row(BA, 0, 0, ts=(10, 1, False), seq=(10, 1), minrtd=10),
    3: row(AB, 0, 0, seqgap=0, ts=(10, 2, False), seq=(10, 2), minrtd=10),
    # 4 A d100 t100: rec TS 102 (100, 4), seq 1101 (100, 4).
    4: row(AB, 100, 100, seqgap=0),
    # 6, 8, 10 echo B's pure ACKs (501, 502, 503) with nothing in flight
    # (he(AB) == ah(BA)): no sample in clocked mode; 11 echoes 503 again.
    6: row(AB, 100, 200, seqgap=0),
    8: row(AB, 100, 300, seqgap=0),
    10: row(AB, 100, 400, seqgap=0),
    11: row(AB, 100, 500, seqgap=0),
}


def with_age(age_case):
    exp = dict(COMMON)
    if age_case == "10":
        # 5 t800: 800-100 = 700 ms <= 10 s.
        exp[5] = row(BA, 0, 0, seqgap=0, ts=(700, 4, False), seq=(700, 4), minrtd=10)
    else:
        # 5: tmax 0.8 - t_entry 0.1 = 0.7 > 0.5: both entries forgotten.
        exp[5] = row(BA, 0, 0, seqgap=0)
    # 7 t1500: 1500-1000 = exactly 0.5 s: not > max age, still pending.
    exp[7] = row(BA, 0, 0, seqgap=0, ts=(500, 6, False), seq=(500, 6), minrtd=10)
    if age_case in ("10", "ns+"):
        # 9 t2500.000001: 0.500000001 s, kept (10 s, or 500000002 ns below).
        exp[9] = row(BA, 0, 0, seqgap=0, ts=("500.000001", 8, False),
                     seq=("500.000001", 8), minrtd=10)
    else:
        # 9: 0.500000001 > 0.5: forgotten.
        exp[9] = row(BA, 0, 0, seqgap=0)
    if age_case == "10":
        # 12 t3400 (captured before 11): 3400-3000 = 400 ms.
        exp[12] = row(BA, 0, 0, seqgap=0, ts=(400, 10, False), seq=(400, 10), minrtd=10)
    else:
        # 12: tmax is 3.6 (frame 11, the other direction), 3.6-3.0 = 0.6 > 0.5:
        # the entries of frame 10 are forgotten although t-t_entry = 0.4.
        exp[12] = row(BA, 0, 0, seqgap=0)
    # 13 t3700: entries of frame 11 (3600): 100 ms.
    exp[13] = row(BA, 0, 0, seqgap=0, ts=(100, 11, False), seq=(100, 11), minrtd=10)
    return exp


def test_max_age_default(tshark):
    assert_frames(connmon_table(tshark, PCAP), with_age("10"))


def test_max_age_explicit_10(tshark):
    assert_frames(connmon_table(tshark, PCAP, ["-o", "connmon.rtd_max_age:10"]), with_age("10"))


@pytest.mark.parametrize("value,case", [
    ("0.5", "0.5"),
    ("0.500", "0.5"),
    (".5", "0.5"),
    # 499999999.5 ns: tie -> even 500000000 (frame 7 stays pending)
    ("0.4999999995", "0.5"),
    # 500000000.5 ns: tie -> even 500000000 (frame 9 forgotten)
    ("0.5000000005", "0.5"),
    # 500000000.6 ns -> 500000001: frame 9 (500000001) pending
    ("0.5000000006", "ns+"),
    # 500000001.5 ns: tie -> even 500000002: frame 9 pending
    ("0.5000000015", "ns+"),
])
def test_max_age_half_second(tshark, value, case):
    got = connmon_table(tshark, PCAP, ["-o", f"connmon.rtd_max_age:{value}"])
    assert_frames(got, with_age(case))


def test_max_age_rounding_below(tshark):
    # 0.4999999994 s -> 499999999 ns (nearest): frame 7 (exactly 500000000 ns
    # old at tmax) is now forgotten too.
    exp = with_age("0.5")
    exp[7] = row(BA, 0, 0, seqgap=0)
    got = connmon_table(tshark, PCAP, ["-o", "connmon.rtd_max_age:0.4999999994"])
    assert_frames(got, exp)


def test_max_age_zero(tshark):
    # 0: an entry survives only while nothing later has been captured in its
    # stream (tmax == t_entry).  Every echo here is captured later than its
    # entry (tmax >= t_echo > t_entry) -> no sample at all.
    got = connmon_table(tshark, PCAP, ["-o", "connmon.rtd_max_age:0"])
    for f, vals in got.items():
        assert "connmon.tsrtd" not in vals and "connmon.seqrtd" not in vals, f
        assert "connmon.minrtd" not in vals, f
    # the other fields are untouched
    for f in (1, 4, 11):
        assert got[f] == COMMON[f]


@pytest.mark.parametrize("bad", ["-1", "abc", "-0.5", "0.5s", ""])
def test_max_age_rejected(tshark, bad):
    """A negative or malformed value is rejected with a clear message and the
    previous value (the default, 10 s) stays."""
    proc = tshark.run(["-r", tshark.pcap(PCAP), "-o", f"connmon.rtd_max_age:{bad}",
                       "-T", "fields", "-e", "frame.number", "-e", "connmon.tsrtd"],
                      check=False)
    assert "rtd_max_age" in proc.stderr, proc.stderr
    if bad:
        assert bad in proc.stderr, proc.stderr
    got = {int(l.split("\t")[0]): l.split("\t")[1] for l in proc.stdout.splitlines()}
    # 10 s still in force: frames 5 and 12 keep their samples
    assert got[5] == "0.700000000" and got[12] == "0.400000000", proc.stdout


# --------------------------------------------------------------------------
# max_age_streams.pcap: tmax is the latest time among the packets of the
# entry's own stream that are analysed (not other streams, not ICMP quotes,
# not skipped headers), in either direction.
SAB = "10.0.0.1:40060+10.0.0.2:80"
SBA = "10.0.0.2:80+10.0.0.1:40060"
SCB = "10.0.0.3:40061+10.0.0.2:80"
SBC = "10.0.0.2:80+10.0.0.3:40061"


def streams_expected(age_is_half):
    exp = {
        1: row(SAB, 0, 0),
        2: row(SBA, 0, 0, ts=(10, 1, False), seq=(10, 1), minrtd=10),
        # 3 t20: rec TS 101 / seq 1101 at 20 ms.
        3: row(SAB, 100, 100, seqgap=0, ts=(10, 2, False), seq=(10, 2), minrtd=10),
        # 4, 5 stream 1 at 0.9 s: not stream 0's packets.
        4: row(SCB, 0, 0),
        5: row(SBC, 0, 0, ts=(10, 4, False), seq=(10, 4), minrtd=10),
        # 6 t400: stream 0's tmax = 0.4 (frames 1, 2, 3, 6) -> 0.38 <= 0.5.
        6: row(SBA, 0, 0, seqgap=0, ts=(380, 3, False), seq=(380, 3), minrtd=10),
        # 7 t1000: echoes B's pure ACK 501, nothing in flight (and 0.6 s old
        #   at tmax 1.0): nothing.  rec TS 102 / seq 1201 at 1000.
        7: row(SAB, 100, 200, seqgap=0),
        # 8 ICMP error (t1900): not analysed, no fields, tmax stays 1.0.
        # 9 t1400: tmax 1.4 -> 0.4 old.
        9: row(SBA, 0, 0, seqgap=0, ts=(400, 7, False), seq=(400, 7), minrtd=10),
        10: row(SAB, 100, 300, seqgap=0),
        # 11 data offset 4 (t2900): skipped, tmax stays 2.0.
        # 12 t2400: 0.4 old.
        12: row(SBA, 0, 0, seqgap=0, ts=(400, 10, False), seq=(400, 10), minrtd=10),
        # 13 seq 1301 = he (frame 11 skipped): seqgap 0.  rec 104 / 1401 at 3000.
        13: row(SAB, 100, 400, seqgap=0),
        # 14 B d10 t3600: TSecr 103 used up, ack 1301 not advancing; tmax 3.6.
        14: row(SBA, 10, 10, seqgap=0),
        # 16 t3700: TSecr 504 (3600, 14, data) -> 100; ack 5011 -> 100.
        16: row(SAB, 0, 400, seqgap=0, ts=(100, 14, False), seq=(100, 14), minrtd=10),
    }
    if age_is_half:
        # 15 t3400: tmax 3.6 - 3.0 = 0.6 > 0.5: entries of 13 forgotten.
        exp[15] = row(SBA, 0, 10, seqgap=0)
    else:
        exp[15] = row(SBA, 0, 10, seqgap=0, ts=(400, 13, False), seq=(400, 13), minrtd=10)
    return exp


def test_max_age_streams_half(tshark):
    got = connmon_table(tshark, "crafted/max_age_streams.pcap", ["-o", "connmon.rtd_max_age:0.5"])
    assert_frames(got, streams_expected(True), frames=range(1, 17))


def test_max_age_streams_default(tshark):
    got = connmon_table(tshark, "crafted/max_age_streams.pcap")
    assert_frames(got, streams_expected(False), frames=range(1, 17))


def test_max_age_streams_wireshark_view(tshark):
    # the ICMP quote and the bogus header do carry tcp.stream 0 in Wireshark
    t = tshark.table("crafted/max_age_streams.pcap", ["tcp.stream"])
    assert t[8] == {"tcp.stream": "0"} and t[11] == {"tcp.stream": "0"}
    assert t[4] == {"tcp.stream": "1"}


# --------------------------------------------------------------------------
# "the previous value stays": a value already in force (from the profile's
# preferences file, or an earlier -o) survives a rejected -o.


def tshark_with_prefs(tshark, tmp_name, text):
    """A copy of the tshark runner whose HOME holds a Wireshark preferences
    file with `text` (a private HOME: other tests are not affected)."""
    import copy
    import os
    home = tshark.stage / tmp_name
    cfg = home / ".config" / "wireshark"
    cfg.mkdir(parents=True, exist_ok=True)
    (cfg / "preferences").write_text(text)
    for d in (home, home / ".config", cfg):
        os.chmod(d, 0o755)
    os.chmod(cfg / "preferences", 0o644)
    ts = copy.copy(tshark)
    ts.env = dict(tshark.env, HOME=str(home))
    return ts


def tsrtd_5_12(ts, extra):
    proc = ts.run(["-r", ts.pcap(PCAP), "-T", "fields", "-e", "frame.number",
                   "-e", "connmon.tsrtd"] + list(extra), check=False)
    got = {int(l.split("\t")[0]): l.split("\t")[1] for l in proc.stdout.splitlines()}
    return proc, got[5], got[12]


def test_max_age_from_preferences_file(tshark):
    ts = tshark_with_prefs(tshark, "home-prefs-ok", "connmon.rtd_max_age: 0.5\n")
    _, f5, f12 = tsrtd_5_12(ts, [])
    assert (f5, f12) == ("", "")  # 0.5 s in force: both forgotten


@pytest.mark.xfail(strict=True, reason=(
    "Wireshark 4.0 gives plugins no hook when a string preference is set: tshark "
    "sets every -o and profile value first and applies them once, so connmon only "
    "sees the last text and falls back to the value it last applied (the built-in "
    "10 s in tshark; the previous setting in the GUI). See docs/semantics.md."))
def test_rejected_value_keeps_preferences_file_value(tshark):
    # SPEC: "a negative or malformed value is rejected with a clear message
    # and the previous value stays" -- the value in force before `-o ...:abc`
    # is the profile's 0.5, so frames 5 and 12 must stay without tsrtd.
    ts = tshark_with_prefs(tshark, "home-prefs-bad", "connmon.rtd_max_age: 0.5\n")
    proc, f5, f12 = tsrtd_5_12(ts, ["-o", "connmon.rtd_max_age:abc"])
    assert "rtd_max_age" in proc.stderr and "abc" in proc.stderr
    assert (f5, f12) == ("", ""), proc.stderr


@pytest.mark.xfail(strict=True, reason=(
    "Wireshark 4.0 gives plugins no hook when a string preference is set: tshark "
    "sets every -o and profile value first and applies them once, so connmon only "
    "sees the last text and falls back to the value it last applied (the built-in "
    "10 s in tshark; the previous setting in the GUI). See docs/semantics.md."))
def test_rejected_value_keeps_earlier_option(tshark):
    # SPEC: "a negative or malformed value is rejected with a clear message
    # and the previous value stays": `-o ...:0.5 -o ...:-1` -> -1 rejected,
    # the 0.5 set just before stays.
    proc, f5, f12 = tsrtd_5_12(tshark, ["-o", "connmon.rtd_max_age:0.5",
                                        "-o", "connmon.rtd_max_age:-1"])
    assert "rtd_max_age" in proc.stderr and "-1" in proc.stderr
    assert (f5, f12) == ("", ""), proc.stderr
