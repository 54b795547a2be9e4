"""TS round-trip rules: pure-ACK modes, one sample per TSval, Karn for TS
entries, unknown echoes, t < t_entry (crafted captures; expected values
derived by hand from SPEC.md)."""
import pytest

from test_crafted_common import assert_frames, connmon_table, row

# --------------------------------------------------------------------------
# pure_ack_modes.pcap
AB = "10.0.0.1:40001+10.0.0.2:80"
BA = "10.0.0.2:80+10.0.0.1:40001"

PURE_CLOCKED = {
    1: row(AB, 0, 0),
    2: row(BA, 0, 0, ts=(10, 1, False), seq=(10, 1), minrtd=10),
    # 3 A ACK t20: echoes the SYN-ACK; rec TS 101 pure (20, 3) (modes clocked/all).
    3: row(AB, 0, 0, seqgap=0, ts=(10, 2, False), seq=(10, 2), minrtd=10),
    # 4 A d100 t30: rec TS 102 (30, 4, [1001,1101)), seq 1101.
    4: row(AB, 100, 100, seqgap=0),
    # 5 B d200 t40: TSecr 102 -> 10; ack 1101 -> 10.  rec TS 501, seq 5201.
    5: row(BA, 200, 200, seqgap=0, ts=(10, 4, False), seq=(10, 4), minrtd=10),
    # 6 A ACK t50: TSecr 501 -> 10; ack 5201 -> 10; ah(AB) 5201.  rec TS 103
    #   pure (50, 6).
    6: row(AB, 0, 100, seqgap=0, ts=(10, 5, False), seq=(10, 5), minrtd=10),
    # 7 B d200 t1050: TSecr 103 = pure-ACK entry.  clocked: he(BA) 5201, ah(AB)
    #   5201 -> B had nothing in flight -> no sample; entry removed.  ack 1101
    #   does not advance.  rec TS 502 (1050, 7), seq 5401.
    7: row(BA, 200, 400, seqgap=0),
    # 8 B d200 t1051: TSecr 103 gone; TSval 502 not > floor.  seq 5601 (1051, 8).
    8: row(BA, 200, 600, seqgap=0),
    # 9 A ACK t1060: TSecr 502 -> 1060-1050; ack 5401 -> entry 5401 (1050, 7).
    #   rec TS 104 pure (1060, 9); ah(AB) 5401.
    9: row(AB, 0, 100, seqgap=0, ts=(10, 7, False), seq=(10, 7), minrtd=10),
    # 10 B d200 t1070: TSecr 104 pure; he(BA) 5601 > ah(AB) 5401 (data in
    #    flight) -> sample 10 ms, pureack true.
    10: row(BA, 200, 800, seqgap=0, ts=(10, 9, True), minrtd=10),
    # 11 A ACK t1080: TSecr 503 -> 10; ack 5801 -> entry 5801 (1070, 10) -> 10
    #    (5601 removed cumulatively).  rec TS 105 pure (1080, 11).
    11: row(AB, 0, 100, seqgap=0, ts=(10, 10, False), seq=(10, 10), minrtd=10),
    # 12 A d100 t1085, TSval 105 again: not > floor, but data takes over the
    #    pure entry 105: mark cleared, range [1101,1201), time/frame stay 1080/11.
    12: row(AB, 100, 200, seqgap=0),
    # 13 B ACK t1100: TSecr 105, not marked any more -> 1100-1080 = 20 from
    #    frame 11, pureack false; ack 1201 -> seq entry (1085, 12) -> 15.
    13: row(BA, 0, 800, seqgap=0, ts=(20, 11, False), seq=(15, 12), minrtd=10),
}

PURE_ALL = dict(PURE_CLOCKED)
# all: frame 7's echo of the pure ACK 103 (50, 6) counts even though B was
# idle: 1050-50 = 1000 ms, pureack true; minrtd(BA) stays 10.
PURE_ALL[7] = row(BA, 200, 400, seqgap=0, ts=(1000, 6, True), minrtd=10)

PURE_NONE = dict(PURE_CLOCKED)
# none: pure ACKs are not eligible: 101, 103, 104, 105 (frames 3, 6, 9, 11)
# are never recorded (and do not move the floor).
# 10: TSecr 104 matches nothing.
PURE_NONE[10] = row(BA, 200, 800, seqgap=0)
# 13: 105 was first recorded by the data packet 12 (105 > floor 102):
# 1100-1085 = 15 from frame 12.
PURE_NONE[13] = row(BA, 0, 800, seqgap=0, ts=(15, 12, False), seq=(15, 12), minrtd=10)


@pytest.mark.parametrize("mode,expected", [
    (None, PURE_CLOCKED), ("clocked", PURE_CLOCKED), ("all", PURE_ALL), ("none", PURE_NONE)])
def test_pure_ack_modes(tshark, mode, expected):
    extra = [] if mode is None else ["-o", f"connmon.ts_pure_acks:{mode}"]
    assert_frames(connmon_table(tshark, "crafted/pure_ack_modes.pcap", extra), expected)


def test_pureack_filter(tshark):
    out = tshark.fields("crafted/pure_ack_modes.pcap", ["frame.number"],
                        ["-o", "connmon.ts_pure_acks:all", "-Y", "connmon.tsrtd.pureack"])
    # -Y "connmon.tsrtd.pureack" selects every frame carrying tsrtd (the
    # field is there, true or false)
    assert [r[0] for r in out] == ["2", "3", "5", "6", "7", "9", "10", "11", "13"]
    out = tshark.fields("crafted/pure_ack_modes.pcap", ["frame.number"],
                        ["-o", "connmon.ts_pure_acks:all", "-Y", "connmon.tsrtd.pureack == 1"])
    assert [r[0] for r in out] == ["7", "10"]


# --------------------------------------------------------------------------
# ts_rules.pcap
TAB = "10.0.0.1:40002+10.0.0.2:80"
TBA = "10.0.0.2:80+10.0.0.1:40002"

TS_RULES = {
    1: row(TAB, 0, 0),
    2: row(TBA, 0, 0, ts=(10, 1, False), seq=(10, 1), minrtd=10),
    # 3 A d100 t20 TSval 101: TSecr 500 -> 10; ack 5001 -> 10.  rec TS 101
    #   (20, 3, [1001,1101)), seq 1101 (20, 3).
    3: row(TAB, 100, 100, seqgap=0, ts=(10, 2, False), seq=(10, 2), minrtd=10),
    # 4, 5: same TSval 101: not > floor, nothing recorded; seq 1201, 1301.
    4: row(TAB, 100, 200, seqgap=0),
    5: row(TAB, 100, 300, seqgap=0),
    # 6 B ACK t30: TSecr 101 -> 30-20 from frame 3 (its first packet); ack 1101
    #   -> 10.  rec TS 501 pure (30, 6).
    6: row(TBA, 0, 0, seqgap=0, ts=(10, 3, False), seq=(10, 3), minrtd=10),
    # 7 B ACK t32: TSecr 101 again: the entry gave its sample -> nothing.
    #   ack 1301 -> entry 1301 (22, 5) -> 10; 1201 removed cumulatively.
    7: row(TBA, 0, 0, seqgap=0, seq=(10, 5), minrtd=10),
    # 8 A d100 t40: TSecr 501 pure; clocked: he(AB) 1301 == ah(BA) 1301 ->
    #   no sample, removed.  rec TS 102 (40, 8, [1301,1401)), seq 1401.
    8: row(TAB, 100, 400, seqgap=0),
    # 9 A d100 t41: rec TS 103 (41, 9, [1401,1501)), seq 1501; he 1501.
    9: row(TAB, 100, 500, seqgap=0),
    # 10 A d100 t300 seq 1301 (retransmission): seqgap 1301-1501 = -200; end
    #    1401 not > he: Karn removes seq 1401 and TS 102 ([1301,1401)); 103
    #    ([1401,1501)) does not overlap.
    10: row(TAB, 100, 600, seqgap=-200),
    # 11 B ACK t310: TSecr 102 removed -> nothing; ack 1401 advances but its
    #    entry was removed -> nothing.  rec TS 502 pure (310, 11); ah(BA) 1401.
    11: row(TBA, 0, 0, seqgap=0),
    # 12 A d100 t311 seq 1401, new TSval 110: TSecr 502 pure; he(AB) 1501 >
    #    ah(BA) 1401 (in flight) -> 311-310 = 1, pureack.  Karn removes seq
    #    1501 and TS 103; rec TS 110 (311, 12) (its own entry stays).
    #    seqgap 1401-1501 = -100; minrtd(AB) min(10, 1) = 1.
    12: row(TAB, 100, 700, seqgap=-100, ts=(1, 11, True), minrtd=1),
    # 13 B ACK t321: TSecr 110 -> 10 (a retransmission with a new TSval is
    #    timed); ack 1501: entry removed -> no seqrtd.  rec TS 503 pure.
    13: row(TBA, 0, 0, seqgap=0, ts=(10, 12, False), minrtd=10),
    # 14 A d100 t330: TSecr 503 pure, he(AB) 1501 == ah(BA) 1501 -> none.
    #    rec TS 111, seq 1601 (330, 14).
    14: row(TAB, 100, 800, seqgap=0),
    # 15 B ACK t340: TSecr 999 unknown -> nothing; ack 1601 -> 10.
    15: row(TBA, 0, 0, seqgap=0, seq=(10, 14), minrtd=10),
    # 16 A d100 t350: TSecr 504 pure, not in flight -> none.  rec TS 112
    #    (350, 16), seq 1701 (350, 16).
    16: row(TAB, 100, 900, seqgap=0),
    # 17 B ACK t345 < 350: TS entry 112 and seq entry 1701 match but t <
    #    t_entry -> no sample; both removed.
    17: row(TBA, 0, 0, seqgap=0),
    # 18 B d10 t360: TSecr 112 again -> nothing (one sample chance per entry);
    #    ack 1701 does not advance.
    18: row(TBA, 10, 10, seqgap=0),
}


def test_ts_rules(tshark):
    assert_frames(connmon_table(tshark, "crafted/ts_rules.pcap"), TS_RULES)


def test_ts_rules_all(tshark):
    # Frames 8, 14 and 16 echo B's pure ACKs while A had nothing in flight:
    # no sample in clocked mode, a pure-ACK sample with `all`.
    exp = dict(TS_RULES)
    # 8: TSecr 501 (30, 6) -> 40-30 = 10, pure; minrtd(AB) 10.
    exp[8] = row(TAB, 100, 400, seqgap=0, ts=(10, 6, True), minrtd=10)
    # 14: TSecr 503 (321, 13) -> 9; minrtd(AB) min(10, 1, 9) = 1.
    exp[14] = row(TAB, 100, 800, seqgap=0, ts=(9, 13, True), minrtd=1)
    # 16: TSecr 504 (340, 15) -> 10; minrtd 1.
    exp[16] = row(TAB, 100, 900, seqgap=0, ts=(10, 15, True), minrtd=1)
    got = connmon_table(tshark, "crafted/ts_rules.pcap", ["-o", "connmon.ts_pure_acks:all"])
    assert_frames(got, exp)


# --------------------------------------------------------------------------
# ts_more.pcap (capture starts mid-connection)
MAB = "10.0.0.1:40070+10.0.0.2:80"
MBA = "10.0.0.2:80+10.0.0.1:40070"

TS_MORE_CLOCKED = {
    # 1 B ACK t0: first TS packet of BA, not a SYN: floor 500, not recorded.
    #   ah(BA) 1001; ack_orig(BA) = 1 (the flow's first packet).
    1: row(MBA, 0, 0),
    # 2 B ACK t10, TS 501: rec 501 pure (10, 2).  Duplicate ACK: L=0, window
    #   = prev, seq 5001 = he, ack = prev_ack, no reverse packet yet (not a
    #   keepalive): 10 ms after frame 1, num 1.
    2: row(MBA, 0, 0, seqgap=0, dup=(10, 1, 1)),
    # 3 A d100 t20 (A's first packet): TSecr 501 is a pure-ACK entry; clocked
    #   needs he(AB) set -> unset -> no sample (removed).  Floor(AB) 100, not
    #   recorded.  ack 5001 advances, BA has no seq entries.  rec seq 1101.
    3: row(MAB, 100, 100),
    # 4 t30: rec TS 102 (30, 4), seq 1201.
    4: row(MAB, 100, 200, seqgap=0),
    # 5 t31 TSval 101: not after the floor 102 -> not recorded.  seq 1301 (31, 5).
    5: row(MAB, 100, 300, seqgap=0),
    # 6 B ACK t41: TSecr 101 matches nothing; ack 1301 -> 10 from frame 5.
    #   rec TS 502 pure (41, 6).
    6: row(MBA, 0, 0, seqgap=0, seq=(10, 5), minrtd=10),
    # 7 t50: TSecr 502 pure, he(AB) 1301 == ah(BA) 1301 -> none.  rec TS 103
    #   (50, 7), seq 1401 (50, 7).
    7: row(MAB, 100, 400, seqgap=0),
    # 8 B d10 PSH without ACK, TSecr 103: no ACK flag -> no TS or seq match
    #   (103 stays pending).  rec TS 503, seq 5011.
    8: row(MBA, 10, 10, seqgap=0),
    # 9 B ACK t70: TSecr 103 -> 70-50; ack 1401 -> 20.  minrtd(BA) 10.
    9: row(MBA, 0, 10, seqgap=0, ts=(20, 7, False), seq=(20, 7), minrtd=10),
    # 10 A ACK t80: TSecr 504 pure, not in flight -> none; ack 5011 -> entry
    #    5011 (60, 8) -> 20; minrtd(AB) 20.  rec TS 104 pure (80, 10).
    10: row(MAB, 0, 400, seqgap=0, seq=(20, 8), minrtd=20),
    # 11 A d100 t81 TS 104: data takes over 104 -> range [1401,1501), time
    #    80.  rec seq 1501 (81, 11).
    11: row(MAB, 100, 500, seqgap=0),
    # 12 A d100 t300 seq 1401: seqgap -100.  Karn removes seq 1501 and TS
    #    104 (its range now [1401,1501)).  rec TS 105 (300, 12).
    12: row(MAB, 100, 600, seqgap=-100),
    # 13 B ACK t310: TSecr 104 removed -> nothing; ack 1501: removed -> nothing.
    13: row(MBA, 0, 10, seqgap=0),
    # 14 t320: TSecr 505 pure, not in flight.  rec TS 106 (320, 14), seq 1601.
    14: row(MAB, 100, 700, seqgap=0),
    # 15 t600 seq 1501 without TS option: seqgap -100; Karn removes seq 1601
    #    and TS 106 as well.
    15: row(MAB, 100, 800, seqgap=-100),
    # 16 B ACK t610: TSecr 106 and ack 1601: nothing.
    16: row(MBA, 0, 10, seqgap=0),
    # 17 A ACK t620 (window 65000: a window update, not a dup): TSecr 506
    #    pure, not in flight.  rec TS 107 pure, empty range [1601,1601).
    17: row(MAB, 0, 800, seqgap=0),
    # 18 t621: rec TS 108 (621, 18, [1601,1701)), seq 1701.
    18: row(MAB, 100, 900, seqgap=0),
    # 19 t900 seq 1601 again: seqgap -100; Karn removes 108 and seq 1701;
    #    107's range is empty -> stays.  rec TS 109.
    19: row(MAB, 100, 1000, seqgap=-100),
    # 20 B ACK t910: TSecr 107 pure; B has nothing in flight (he(BA) 5011 ==
    #    ah(AB) 5011) -> none in clocked mode; ack 1701: removed -> nothing.
    #    ACK number changed: ack_orig(BA) = 20.
    20: row(MBA, 0, 10, seqgap=0),
    # 21 ACK+ECE, 22 PSH+ACK without data, 23 ACK+CWR: duplicate ACKs all.
    21: row(MBA, 0, 10, seqgap=0, dup=(10, 1, 20)),
    22: row(MBA, 0, 10, seqgap=0, dup=(20, 2, 20)),
    23: row(MBA, 0, 10, seqgap=0, dup=(30, 3, 20)),
}

TS_MORE_ALL = dict(TS_MORE_CLOCKED)
# all: every echo of a pending pure-ACK entry counts.
# 3: TSecr 501 (10, 2) -> 10, pure; minrtd(AB) 10.
TS_MORE_ALL[3] = row(MAB, 100, 100, ts=(10, 2, True), minrtd=10)
# 7: TSecr 502 (41, 6) -> 9; minrtd(AB) 9.
TS_MORE_ALL[7] = row(MAB, 100, 400, seqgap=0, ts=(9, 6, True), minrtd=9)
# 10: TSecr 504 (70, 9) -> 10; seqrtd 20; minrtd(AB) 9.
TS_MORE_ALL[10] = row(MAB, 0, 400, seqgap=0, ts=(10, 9, True), seq=(20, 8), minrtd=9)
# 14: TSecr 505 (310, 13) -> 10.
TS_MORE_ALL[14] = row(MAB, 100, 700, seqgap=0, ts=(10, 13, True), minrtd=9)
# 17: TSecr 506 (610, 16) -> 10.
TS_MORE_ALL[17] = row(MAB, 0, 800, seqgap=0, ts=(10, 16, True), minrtd=9)
# 20: TSecr 107 (620, 17), not removed by frame 19's Karn (empty range):
#     910-620 = 290, pure; minrtd(BA) stays 10.
TS_MORE_ALL[20] = row(MBA, 0, 10, seqgap=0, ts=(290, 17, True), minrtd=10)


@pytest.mark.parametrize("mode,expected", [
    ("clocked", TS_MORE_CLOCKED), ("all", TS_MORE_ALL),
    # none: the pure ACKs 501, 502, 504, 505, 506, 107 are never recorded,
    # 104 is first recorded by the data frame 11 (after the floor 103) and
    # removed by the same Karn at 12: the same values as clocked.
    ("none", TS_MORE_CLOCKED)])
def test_ts_more(tshark, mode, expected):
    got = connmon_table(tshark, "crafted/ts_more.pcap", ["-o", f"connmon.ts_pure_acks:{mode}"])
    assert_frames(got, expected)


def test_ts_more_dupacks_agree_with_wireshark(tshark):
    rows = tshark.fields("crafted/ts_more.pcap", ["frame.number"],
                         ["-Y", "tcp.analysis.duplicate_ack"])
    assert [int(r[0]) for r in rows] == [2, 21, 22, 23]
