"""Seq round trips, seqgap, serial wraparound and duplicate ACKs (crafted
captures; expected values derived by hand from SPEC.md)."""
from test_crafted_common import assert_frames, connmon_table, row


# --------------------------------------------------------------------------
# seq_rules.pcap (no TS option anywhere: tsrtd never appears)
AB = "10.0.0.1:40003+10.0.0.2:80"
BA = "10.0.0.2:80+10.0.0.1:40003"

SEQ_RULES = {
    # 1 SYN t0: rec seq 1001 (0, 1).
    1: row(AB, 0, 0),
    # 2 SYN-ACK t10: ack 1001 advances (ah unset) -> 10.  rec seq 5001.
    2: row(BA, 0, 0, seq=(10, 1), minrtd=10),
    # 3 ACK t20: ack 5001 -> 10.
    3: row(AB, 0, 0, seqgap=0, seq=(10, 2), minrtd=10),
    # 4-6: rec seq 1101 (30, 4), 1201 (31, 5), 1301 (32, 6).
    4: row(AB, 100, 100, seqgap=0),
    5: row(AB, 100, 200, seqgap=0),
    6: row(AB, 100, 300, seqgap=0),
    # 7 ACK 1201 t41: matches 1201 -> 41-31 = 10; 1101 removed (cumulative).
    7: row(BA, 0, 0, seqgap=0, seq=(10, 5), minrtd=10),
    # 8 ACK 1101 t42: does not advance (ah 1201) -> nothing.
    8: row(BA, 0, 0, seqgap=0),
    # 9 ACK 1251 t51: advances, no entry ends at 1251 -> nothing; 1301 stays.
    9: row(BA, 0, 0, seqgap=0),
    # 10 ACK 1301 t52: entry 1301 (32, 6) -> 20.
    10: row(BA, 0, 0, seqgap=0, seq=(20, 6), minrtd=10),
    # 11-13: rec 1401 (60, 11), 1501 (61, 12), 1601 (62, 13); he 1601.
    11: row(AB, 100, 400, seqgap=0),
    12: row(AB, 100, 500, seqgap=0),
    13: row(AB, 100, 600, seqgap=0),
    # 14 seq 1401 t300: seqgap 1401-1601 = -200; end 1501 not > he: Karn
    #    removes the overlapping entry 1501, records nothing; counts again.
    14: row(AB, 100, 700, seqgap=-200),
    # 15 ACK 1501 t310: advances, entry gone -> nothing (1401 removed too).
    15: row(BA, 0, 0, seqgap=0),
    # 16 ACK 1601 t312: entry 1601 (62, 13) -> 250.
    16: row(BA, 0, 0, seqgap=0, seq=(250, 13), minrtd=10),
    # 17 seq 1701 t320: hole: seqgap 1701-1601 = +100; rec 1801 (320, 17).
    17: row(AB, 100, 800, seqgap=100),
    # 18 seq 1601 t321: seqgap 1601-1801 = -200; Karn: [1601,1701) overlaps
    #    nothing pending (1801 is [1701,1801)).
    18: row(AB, 100, 900, seqgap=-200),
    # 19 ACK 1801 t330: entry 1801 -> 10.
    19: row(BA, 0, 0, seqgap=0, seq=(10, 17), minrtd=10),
    # 20 ACK 1901 t340: advances (ah 1901); nothing pending ends there.
    20: row(BA, 0, 0, seqgap=0),
    # 21 seq 1801 t341: end 1901 > he 1801 -> new data, rec 1901 (341, 21).
    21: row(AB, 100, 1000, seqgap=0),
    # 22 ACK 1901 t351 (window 65000): does not advance -> nothing, although
    #    an entry with end 1901 is pending.  Window changed: not a dup ACK.
    22: row(BA, 0, 0, seqgap=0),
    # 23 seq 1901 t360: rec 2001 (360, 23).
    23: row(AB, 100, 1100, seqgap=0),
    # 24 ACK 2001 t370: -> 10 (1901 removed cumulatively).
    24: row(BA, 0, 0, seqgap=0, seq=(10, 23), minrtd=10),
}


def test_seq_rules(tshark):
    assert_frames(connmon_table(tshark, "crafted/seq_rules.pcap"), SEQ_RULES)


def test_seq_rules_expert(tshark):
    pcap = "crafted/seq_rules.pcap"
    # hole: seqgap > 0, no RST: frame 17 only.
    assert tshark.matching_frames(pcap, "connmon.expert.hole") == [17]
    # behind: seqgap < 0 with L > 0 (14, 18); or payload already acked by the
    # reverse flow: 21 (1801 + 100 = 1901 <= B's prev_ack 1901).
    assert tshark.matching_frames(pcap, "connmon.expert.behind") == [14, 18, 21]
    assert tshark.matching_frames(pcap, "connmon.expert.dupack") == []


def test_seqgap_filters(tshark):
    pcap = "crafted/seq_rules.pcap"
    assert tshark.matching_frames(pcap, "connmon.seqgap < 0") == [14, 18]
    assert tshark.matching_frames(pcap, "connmon.seqgap > 0") == [17]
    assert tshark.matching_frames(pcap, "connmon.seqrtd >= 0.02") == [10, 16]
    assert tshark.matching_frames(pcap, "connmon.tsrtd") == []


# --------------------------------------------------------------------------
# wraparound.pcap: W = 2^32
WAB = "10.0.0.1:40005+10.0.0.2:80"
WBA = "10.0.0.2:80+10.0.0.1:40005"

WRAP = {
    # 1 SYN seq W-150 TS W-2: rec TS W-2, seq W-149.
    1: row(WAB, 0, 0),
    # 2 SYN-ACK t10: TSecr W-2 -> 10; ack W-149 -> 10.  rec TS W-1, seq W-49.
    2: row(WBA, 0, 0, ts=(10, 1, False), seq=(10, 1), minrtd=10),
    # 3 A d200 seq W-149 t20: seqgap 0; TSecr W-1 -> 10; ack W-49 -> 10.
    #   TSval W-1 > W-2: rec; end (W-149)+200 = 51 (wrapped) > he W-149: rec 51.
    3: row(WAB, 200, 200, seqgap=0, ts=(10, 2, False), seq=(10, 2), minrtd=10),
    # 4 B d100 seq W-49 t30: TSecr W-1 -> 10; ack 51 > ah W-149 (51 - (W-149)
    #   mod W = 200 < 2^31) -> entry 51 -> 10.  TSval 0 > W-1 -> rec; end 51.
    4: row(WBA, 100, 100, seqgap=0, ts=(10, 3, False), seq=(10, 3), minrtd=10),
    # 5 A d100 seq 51 t40: seqgap 51 - he 51 = 0; TSecr 0 -> 10; ack 51 > ah
    #   W-49 -> entry 51 (B's, 30) -> 10.  TSval 1 > 0.
    5: row(WAB, 100, 300, seqgap=0, ts=(10, 4, False), seq=(10, 4), minrtd=10),
    # 6 B ACK 151 t50: TSecr 1 -> 10; ack 151 -> 10.  rec TS 1 pure.
    6: row(WBA, 0, 100, seqgap=0, ts=(10, 5, False), seq=(10, 5), minrtd=10),
    # 7 A d200 seq W-149 t60 (retransmission across the wrap): seqgap
    #   (W-149) - 151 = -300 as signed 32 bit.  TSecr 1 pure, he(AB) 151 ==
    #   ah(BA) 151 -> none.  TSval 2 > 1: rec TS 2 (60, 7); Karn: nothing else
    #   pending overlaps.
    7: row(WAB, 200, 500, seqgap=-300),
    # 8 B ACK 151 t70: TSecr 2 -> 10 (the retransmission's new TSval is timed);
    #   ack 151 does not advance.  Duplicate ACK: L=0, window unchanged, seq 51
    #   = he, ack = prev_ack, A's last packet not a keepalive: age 70-50 from
    #   frame 6 (where the ACK number changed to 151), num 1.
    8: row(WBA, 0, 100, seqgap=0, ts=(10, 7, False), minrtd=10, dup=(20, 1, 6)),
    # 9 A ACK seq 151+2^31 (no TS): seq - he = 2^31 exactly -> as signed 32
    #   bit -2147483648; neither after nor before he, so he stays 151.
    9: row(WAB, 0, 500, seqgap=-2147483648),
    # 10 seq 151+2^31-1: 2^31-1 ahead -> seqgap 2147483647, he moves there.
    10: row(WAB, 0, 500, seqgap=2147483647),
    # 11 seq 151: 151 - (150+2^31) = -(2^31-1).
    11: row(WAB, 0, 500, seqgap=-2147483647),
}


def test_wraparound(tshark):
    assert_frames(connmon_table(tshark, "crafted/wraparound.pcap"), WRAP)


# --------------------------------------------------------------------------
# dupacks.pcap (no TS)
DAB = "10.0.0.1:40009+10.0.0.2:80"
DBA = "10.0.0.2:80+10.0.0.1:40009"


def d(seqgap=0, dup=None, seq=None, minrtd=None):
    """B's pure ACKs."""
    return row(DBA, 0, 0, seqgap=seqgap, dup=dup, seq=seq, minrtd=minrtd)


DUPACKS = {
    1: row(DAB, 0, 0),
    2: row(DBA, 0, 0, seq=(10, 1), minrtd=10),
    3: row(DAB, 0, 0, seqgap=0, seq=(10, 2), minrtd=10),
    # 4-8: seq entries 1101 (30, 4) ... 1501 (34, 8).
    4: row(DAB, 100, 100, seqgap=0),
    5: row(DAB, 100, 200, seqgap=0),
    6: row(DAB, 100, 300, seqgap=0),
    7: row(DAB, 100, 400, seqgap=0),
    8: row(DAB, 100, 500, seqgap=0),
    # 9 ACK 1101 t40: ACK number changed (1001 -> 1101): ack_orig = 9.  -> 10.
    9: d(seq=(10, 4), minrtd=10),
    # 10-12: every condition holds -> dups 1, 2, 3 of frame 9 (t40).
    10: d(dup=(2, 1, 9)),
    11: d(dup=(3, 2, 9)),
    12: d(dup=(4, 3, 9)),
    # 13 A retransmits 1101 t45: seqgap 1101 - 1501 = -400.
    13: row(DAB, 100, 600, seqgap=-400),
    # 14 window 65535 -> 65000: not a dup (ack_orig stays 9: ACK unchanged).
    14: d(),
    # 15 window 65000 = prev: dup; the 4th duplicate since ack_orig (9).
    15: d(dup=(7, 4, 9)),
    # 16, 17 window 0: never a dup.
    16: d(),
    17: d(),
    # 18 A 1 byte at seq 1501 = he, B's previous packet advertised window 0:
    #    zero-window probe, does not advance he.  19: the same again (seqgap 0).
    18: row(DAB, 1, 601, seqgap=0),
    19: row(DAB, 1, 602, seqgap=0),
    # 20 window 0 -> 65000 (window update): not a dup.
    20: d(),
    # 21: dup 5.
    21: d(dup=(13, 5, 9)),
    # 22 seq 4990 != he 5001: not a dup (and not a keepalive: he-1 = 5000).
    22: d(seqgap=-11),
    # 23: dup 6 (he stays 5001).
    23: d(dup=(15, 6, 9)),
    # 24 A seq 1500 = he-1, no payload: keepalive; seqgap -1.
    24: row(DAB, 0, 602, seqgap=-1),
    # 25, 26: A's previous packet (24) is a keepalive: not dups.
    25: d(),
    26: d(),
    # 27 A new data 1501 t60: rec seq 1601 (60, 27).
    27: row(DAB, 100, 702, seqgap=0),
    # 28: A's previous packet is data again: dup 7.
    28: d(dup=(21, 7, 9)),
    # 29 ACK 1601 t70: ACK changed: not a dup, ack_orig = 29; -> 70-60 = 10.
    29: d(seq=(10, 27), minrtd=10),
    # 30: dup 1 of frame 29 (numbering restarts).
    30: d(dup=(1, 1, 29)),
    # 31 RST: not a dup.
    31: d(),
}


def test_dupacks(tshark):
    assert_frames(connmon_table(tshark, "crafted/dupacks.pcap"), DUPACKS)


def test_dupacks_agree_with_wireshark(tshark):
    pcap = "crafted/dupacks.pcap"
    ours = tshark.matching_frames(pcap, "connmon.dupack")
    assert ours == [10, 11, 12, 15, 21, 23, 28, 30]
    assert tshark.matching_frames(pcap, "tcp.analysis.duplicate_ack") == ours
    assert tshark.matching_frames(pcap, "connmon.expert.dupack") == ours


def test_dupack_filters(tshark):
    pcap = "crafted/dupacks.pcap"
    assert tshark.matching_frames(pcap, "connmon.dupack.num >= 3") == [12, 15, 21, 23, 28]
    assert tshark.matching_frames(pcap, "connmon.dupack.frame == 29") == [30]
    assert tshark.matching_frames(pcap, "connmon.dupack > 0.01") == [21, 23, 28]
    assert tshark.matching_frames(pcap, "connmon.seqgap < 0") == [13, 22, 24]


# --------------------------------------------------------------------------
# probes.pcap: 1-byte keepalive, zero-window probe, segment at high_end - 1
PAB = "10.0.0.1:40080+10.0.0.2:80"
PBA = "10.0.0.2:80+10.0.0.1:40080"

PROBES = {
    1: row(PAB, 0, 0),
    2: row(PBA, 0, 0, ts=(10, 1, False), seq=(10, 1), minrtd=10),
    3: row(PAB, 0, 0, seqgap=0, ts=(10, 2, False), seq=(10, 2), minrtd=10),
    # 4 t30: rec TS 102 (30, 4, [1001,1101)), seq 1101 (30, 4); he 1101.
    4: row(PAB, 100, 100, seqgap=0),
    # 5 1-byte keepalive seq 1100 = he-1: seqgap -1.  L=1, end 1101 not >
    #   he: the Karn case (no exception for keepalives) removes seq 1101 and
    #   TS 102; TSval 103 > 102 is recorded (35, 5, [1100,1101)).
    5: row(PAB, 1, 101, seqgap=-1),
    # 6 B ACK 1101 t45: TSecr 103 -> 10 from the keepalive; ack 1101: its
    #   entry was removed -> no seqrtd.  rec TS 501 pure.
    6: row(PBA, 0, 0, seqgap=0, ts=(10, 5, False), minrtd=10),
    # 7 window 0: no dup.  rec TS 502 pure (50, 7).
    7: row(PBA, 0, 0, seqgap=0),
    # 8 A 1 byte at seq 1101 = he, B's previous packet window 0: zero-window
    #   probe: no seq entry, no Karn, he stays 1101.  TSecr 502 pure, not in
    #   flight: none.  TS 104 is recorded (TS rule 2 has no exception).
    8: row(PAB, 1, 102, seqgap=0),
    # 9 B ACK 1102 t70: TSecr 104 -> 10; ack 1102 advances, no entry.
    9: row(PBA, 0, 0, seqgap=0, ts=(10, 8, False), minrtd=10),
    # 10 A d100 seq 1102: he is still 1101 -> seqgap +1.  TSecr 503 pure,
    #    he(AB) 1101 not > ah(BA) 1102: none.  rec 105, seq 1202 (80, 10).
    10: row(PAB, 100, 202, seqgap=1),
    11: row(PBA, 0, 0, seqgap=0, ts=(10, 10, False), seq=(10, 10), minrtd=10),
    # 12 A d50 seq 1201 = he-1, end 1251 > he: new data, recorded; seqgap -1.
    12: row(PAB, 50, 252, seqgap=-1),
    13: row(PBA, 0, 0, seqgap=0, ts=(10, 12, False), seq=(10, 12), minrtd=10),
}


def test_probes(tshark):
    assert_frames(connmon_table(tshark, "crafted/probes.pcap"), PROBES)
