#!/usr/bin/env python3
"""Writes the crafted connmon test captures into pcaps/crafted/.

    python3 tools/craft/craft.py            # all captures
    python3 tools/craft/craft.py OUTDIR     # somewhere else

Deterministic, Python 3 standard library only.  Each capture is a handful of
packets with hand-chosen times (milliseconds after EPOCH, nanosecond pcap) so
the expected connmon values are round numbers; the expected values are
derived by hand from SPEC.md in tests/integration/test_crafted_*.py.

Captures (one theme each; the block comment above each function says what
every packet is for): handshake_basic, pure_ack_modes, ts_rules, ts_more,
seq_rules, probes, max_age, max_age_streams, wraparound, port_reuse,
syn_retransmit, dupacks, icmp_error, encaps (+ vlan, sll, ipv6, ipip, sit),
malformed, tcp_cut, time_backwards.  Frames are built by tools/lib/frames.py,
conversations by craftlib.py, files written by tools/lib/pcap.py.

Conventions: A is the client (10.0.0.1, ISN 1000, TSvals from 100), B the
server (10.0.0.2:80, ISN 5000, TSvals from 500) unless a scenario says
otherwise.  Flags: S SYN, A ACK, P PSH, F FIN, R RST.  "d100" means 100
payload bytes.  Every call's frame number is checked (F(n, ...)) so the
comments can be trusted.
"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, "..")]   # craftlib, lib

from craftlib import MAC_R, Capture, Conn, ms  # noqa: E402
from lib.frames import (MAC_A, MAC_B, ether, icmp4_error, icmp6_error, ipv4,  # noqa: E402
                        opt_nop, opt_ts)
from lib.pcap import DLT_LINUX_SLL  # noqa: E402

OUT = os.path.join(HERE, "..", "..", "pcaps", "crafted")


def F(expected, got):
    assert expected == got, f"frame number: expected {expected}, got {got}"


# ==========================================================================
# handshake_basic.pcap
#
# Stream 0, A 10.0.0.1:40000 <-> B 10.0.0.2:80, full handshake with TS:
#  1 t0   A SYN            seq 1000       TS 100/0    SYN is recorded (TS and seq, L=1)
#  2 t10  B SYN-ACK        seq 5000 ack 1001 TS 500/100  echoes SYN: tsrtd+seqrtd 10 ms
#  3 t20  A ACK            seq 1001 ack 5001 TS 101/500  echoes SYN-ACK: 10 ms; pure ACK
#  4 t21  A d100           seq 1001       TS 102/500
#  5 t46  B d200           seq 5001 ack 1101 TS 501/102  25 ms
#  6 t56  A ACK            ack 5201       TS 103/501  10 ms
#  7 t60  A FIN-ACK        seq 1101       TS 104/501  FIN takes one seq number
#  8 t75  B FIN-ACK        seq 5201 ack 1102 TS 502/104  15 ms, acks the FIN
#  9 t85  A ACK            seq 1102 ack 5202 TS 105/502  10 ms, acks B's FIN
# Stream 1, C 10.0.0.3:41000 <-> B:80, capture starts mid-connection:
# 10 t100 C d50   seq 20000 ack 70000 TS 5000/6999  first TS packet, not a SYN:
#                                      floor 5000, not recorded
# 11 t110 B d50   seq 70000 ack 20050 TS 7000/5000  echo of 5000: nothing (floor);
#                                      seqrtd 10 ms; B's floor 7000
# 12 t115 C d50   seq 20050 ack 70050 TS 5000/7000  same TSval 5000; seqrtd 5 ms
# 13 t125 B ACK   ack 20100 TS 7001/5000   echo of 5000 again: nothing; seqrtd 10 ms
# 14 t130 C d50   seq 20100 ack 70050 TS 5001/7001  echoes B's pure ACK while C
#                                      had nothing in flight: no sample (clocked)
# 15 t145 B ACK   ack 20150 TS 7002/5001   tsrtd+seqrtd 15 ms
# ==========================================================================
def handshake_basic():
    cap = Capture()
    c = Conn(cap, "10.0.0.1", 40000, "10.0.0.2", 80)
    F(1, c.a(ms(0), "S", 1000, 0, win=64240, ts=(100, 0)))
    F(2, c.b(ms(10), "SA", 5000, 1001, win=65160, ts=(500, 100)))
    F(3, c.a(ms(20), "A", 1001, 5001, ts=(101, 500)))
    F(4, c.a(ms(21), "PA", 1001, 5001, data=100, ts=(102, 500)))
    F(5, c.b(ms(46), "PA", 5001, 1101, data=200, ts=(501, 102)))
    F(6, c.a(ms(56), "A", 1101, 5201, ts=(103, 501)))
    F(7, c.a(ms(60), "FA", 1101, 5201, ts=(104, 501)))
    F(8, c.b(ms(75), "FA", 5201, 1102, ts=(502, 104)))
    F(9, c.a(ms(85), "A", 1102, 5202, ts=(105, 502)))
    d = Conn(cap, "10.0.0.3", 41000, "10.0.0.2", 80)
    F(10, d.a(ms(100), "PA", 20000, 70000, data=50, ts=(5000, 6999)))
    F(11, d.b(ms(110), "PA", 70000, 20050, data=50, ts=(7000, 5000)))
    F(12, d.a(ms(115), "PA", 20050, 70050, data=50, ts=(5000, 7000)))
    F(13, d.b(ms(125), "A", 70050, 20100, ts=(7001, 5000)))
    F(14, d.a(ms(130), "PA", 20100, 70050, data=50, ts=(5001, 7001)))
    F(15, d.b(ms(145), "A", 70050, 20150, ts=(7002, 5001)))
    return cap


# ==========================================================================
# pure_ack_modes.pcap   (A 10.0.0.1:40001 <-> B 10.0.0.2:80)
#
#  1 t0    A SYN        seq 1000        TS 100/0
#  2 t10   B SYN-ACK    seq 5000 ack 1001 TS 500/100
#  3 t20   A ACK        seq 1001 ack 5001 TS 101/500  pure ACK (never echoed)
#  4 t30   A d100       seq 1001        TS 102/500   request
#  5 t40   B d200       seq 5001 ack 1101 TS 501/102 response
#  6 t50   A ACK        ack 5201        TS 103/501   pure ACK; B is now idle
#  7 t1050 B d200       seq 5201        TS 502/103   B idle for 1 s, then echoes 103:
#                                        clocked none, all 1.000 (pureack), none nothing
#  8 t1051 B d200       seq 5401        TS 502/103   bulk continues (same TSval)
#  9 t1060 A ACK        ack 5401        TS 104/502   acks frame 7 only
# 10 t1070 B d200       seq 5601        TS 503/104   B had 5401..5601 in flight:
#                                        clocked and all 10 ms (pureack); none nothing
# 11 t1080 A ACK        ack 5801        TS 105/503   pure ACK, acks everything of B
# 12 t1085 A d100       seq 1101        TS 105/503   data with the same TSval: takes
#                                        over the pure-ACK entry (mark cleared, time
#                                        and frame of 11 stay)
# 13 t1100 B ACK        seq 5801 ack 1201 TS 504/105  echo of 105: clocked/all 20 ms
#                                        from 11, not pure; none 15 ms from 12
# ==========================================================================
def pure_ack_modes():
    cap = Capture()
    c = Conn(cap, "10.0.0.1", 40001, "10.0.0.2", 80)
    F(1, c.a(ms(0), "S", 1000, 0, ts=(100, 0)))
    F(2, c.b(ms(10), "SA", 5000, 1001, ts=(500, 100)))
    F(3, c.a(ms(20), "A", 1001, 5001, ts=(101, 500)))
    F(4, c.a(ms(30), "PA", 1001, 5001, data=100, ts=(102, 500)))
    F(5, c.b(ms(40), "PA", 5001, 1101, data=200, ts=(501, 102)))
    F(6, c.a(ms(50), "A", 1101, 5201, ts=(103, 501)))
    F(7, c.b(ms(1050), "PA", 5201, 1101, data=200, ts=(502, 103)))
    F(8, c.b(ms(1051), "PA", 5401, 1101, data=200, ts=(502, 103)))
    F(9, c.a(ms(1060), "A", 1101, 5401, ts=(104, 502)))
    F(10, c.b(ms(1070), "PA", 5601, 1101, data=200, ts=(503, 104)))
    F(11, c.a(ms(1080), "A", 1101, 5801, ts=(105, 503)))
    F(12, c.a(ms(1085), "PA", 1101, 5801, data=100, ts=(105, 503)))
    F(13, c.b(ms(1100), "A", 5801, 1201, ts=(504, 105)))
    return cap


# ==========================================================================
# ts_rules.pcap   (A 10.0.0.1:40002 <-> B 10.0.0.2:80)
#
#  1 t0   A SYN      seq 1000          TS 100/0
#  2 t10  B SYN-ACK  seq 5000 ack 1001 TS 500/100
#  3 t20  A d100     seq 1001          TS 101/500   first packet with TSval 101: timed
#  4 t21  A d100     seq 1101          TS 101/500   same TSval: not recorded again
#  5 t22  A d100     seq 1201          TS 101/500   same TSval
#  6 t30  B ACK      ack 1101          TS 501/101   echo of 101: 10 ms from frame 3
#  7 t32  B ACK      ack 1301          TS 501/101   second echo of 101: nothing
#                                                   (seqrtd 10 ms from frame 5)
#  8 t40  A d100     seq 1301          TS 102/501   entry 102 = [1301,1401)
#  9 t41  A d100     seq 1401          TS 103/501   entry 103 = [1401,1501)
# 10 t300 A d100     seq 1301          TS 102/501   retransmission (same TSval):
#                                                   Karn removes TS 102 (and seq 1401)
# 11 t310 B ACK      ack 1401          TS 502/102   echo of 102: nothing
# 12 t311 A d100     seq 1401          TS 110/502   retransmission with a NEW TSval:
#                                                   removes 103, records 110; echoes
#                                                   B's pure ACK 502 with 1401..1501
#                                                   in flight: 1 ms (pureack)
# 13 t321 B ACK      ack 1501          TS 503/110   echo of 110: 10 ms from frame 12
# 14 t330 A d100     seq 1501          TS 111/503
# 15 t340 B ACK      ack 1601          TS 504/999   echo of an unknown value: nothing
# 16 t350 A d100     seq 1601          TS 112/504
# 17 t345 B ACK      ack 1701          TS 505/112   capture time earlier than frame
#                                                   16: t < t_entry, no sample, but
#                                                   the entries are used up
# 18 t360 B d10      seq 5001 ack 1701 TS 506/112   echo of 112 again: nothing
# ==========================================================================
def ts_rules():
    cap = Capture()
    c = Conn(cap, "10.0.0.1", 40002, "10.0.0.2", 80)
    F(1, c.a(ms(0), "S", 1000, 0, ts=(100, 0)))
    F(2, c.b(ms(10), "SA", 5000, 1001, ts=(500, 100)))
    F(3, c.a(ms(20), "PA", 1001, 5001, data=100, ts=(101, 500)))
    F(4, c.a(ms(21), "PA", 1101, 5001, data=100, ts=(101, 500)))
    F(5, c.a(ms(22), "PA", 1201, 5001, data=100, ts=(101, 500)))
    F(6, c.b(ms(30), "A", 5001, 1101, ts=(501, 101)))
    F(7, c.b(ms(32), "A", 5001, 1301, ts=(501, 101)))
    F(8, c.a(ms(40), "PA", 1301, 5001, data=100, ts=(102, 501)))
    F(9, c.a(ms(41), "PA", 1401, 5001, data=100, ts=(103, 501)))
    F(10, c.a(ms(300), "PA", 1301, 5001, data=100, ts=(102, 501)))
    F(11, c.b(ms(310), "A", 5001, 1401, ts=(502, 102)))
    F(12, c.a(ms(311), "PA", 1401, 5001, data=100, ts=(110, 502)))
    F(13, c.b(ms(321), "A", 5001, 1501, ts=(503, 110)))
    F(14, c.a(ms(330), "PA", 1501, 5001, data=100, ts=(111, 503)))
    F(15, c.b(ms(340), "A", 5001, 1601, ts=(504, 999)))
    F(16, c.a(ms(350), "PA", 1601, 5001, data=100, ts=(112, 504)))
    F(17, c.b(ms(345), "A", 5001, 1701, ts=(505, 112)))
    F(18, c.b(ms(360), "PA", 5001, 1701, data=10, ts=(506, 112)))
    return cap


# ==========================================================================
# seq_rules.pcap   (A 10.0.0.1:40003 <-> B 10.0.0.2:80, no TS option at all)
#
#  1 t0   A SYN      seq 1000
#  2 t10  B SYN-ACK  seq 5000 ack 1001          seqrtd 10 ms (SYN)
#  3 t20  A ACK      seq 1001 ack 5001          seqrtd 10 ms (SYN-ACK)
#  4 t30  A d100     seq 1001  -> entry 1101
#  5 t31  A d100     seq 1101  -> entry 1201
#  6 t32  A d100     seq 1201  -> entry 1301
#  7 t41  B ACK      ack 1201   matches 1201 (10 ms), removes 1101 cumulatively
#  8 t42  B ACK      ack 1101   older ACK, does not advance: nothing
#  9 t51  B ACK      ack 1251   advances into the middle of a segment: nothing
# 10 t52  B ACK      ack 1301   20 ms from frame 6
# 11 t60  A d100     seq 1301  -> entry 1401
# 12 t61  A d100     seq 1401  -> entry 1501
# 13 t62  A d100     seq 1501  -> entry 1601
# 14 t300 A d100     seq 1401   retransmission: seqgap -200, Karn removes 1501
# 15 t310 B ACK      ack 1501   1501 was removed: nothing
# 16 t312 B ACK      ack 1601   250 ms from frame 13
# 17 t320 A d100     seq 1701   hole 1601..1701: seqgap +100, entry 1801
# 18 t321 A d100     seq 1601   fills the hole late: seqgap -200, nothing overlaps
# 19 t330 B ACK      ack 1801   10 ms from frame 17
# 20 t340 B ACK      ack 1901   acks data the CP has not seen: advances, nothing
# 21 t341 A d100     seq 1801   new data for A's side (entry 1901), already acked
# 22 t351 B ACK      ack 1901 win 65000  does not advance: nothing although an
#                               entry with end 1901 is pending
# 23 t360 A d100     seq 1901  -> entry 2001
# 24 t370 B ACK      ack 2001 win 65000  10 ms from frame 23
# ==========================================================================
def seq_rules():
    cap = Capture()
    c = Conn(cap, "10.0.0.1", 40003, "10.0.0.2", 80)
    F(1, c.a(ms(0), "S", 1000, 0))
    F(2, c.b(ms(10), "SA", 5000, 1001))
    F(3, c.a(ms(20), "A", 1001, 5001))
    F(4, c.a(ms(30), "PA", 1001, 5001, data=100))
    F(5, c.a(ms(31), "PA", 1101, 5001, data=100))
    F(6, c.a(ms(32), "PA", 1201, 5001, data=100))
    F(7, c.b(ms(41), "A", 5001, 1201))
    F(8, c.b(ms(42), "A", 5001, 1101))
    F(9, c.b(ms(51), "A", 5001, 1251))
    F(10, c.b(ms(52), "A", 5001, 1301))
    F(11, c.a(ms(60), "PA", 1301, 5001, data=100))
    F(12, c.a(ms(61), "PA", 1401, 5001, data=100))
    F(13, c.a(ms(62), "PA", 1501, 5001, data=100))
    F(14, c.a(ms(300), "PA", 1401, 5001, data=100))
    F(15, c.b(ms(310), "A", 5001, 1501))
    F(16, c.b(ms(312), "A", 5001, 1601))
    F(17, c.a(ms(320), "PA", 1701, 5001, data=100))
    F(18, c.a(ms(321), "PA", 1601, 5001, data=100))
    F(19, c.b(ms(330), "A", 5001, 1801))
    F(20, c.b(ms(340), "A", 5001, 1901))
    F(21, c.a(ms(341), "PA", 1801, 5001, data=100))
    F(22, c.b(ms(351), "A", 5001, 1901, win=65000))
    F(23, c.a(ms(360), "PA", 1901, 5001, data=100))
    F(24, c.b(ms(370), "A", 5001, 2001, win=65000))
    return cap


# ==========================================================================
# max_age.pcap   (A 10.0.0.1:40004 <-> B 10.0.0.2:80); tests run it with the
# default rtd_max_age (10 s) and with 0.5 s.
#
#  1 t0        A SYN      TS 100/0
#  2 t10       B SYN-ACK  TS 500/100
#  3 t20       A ACK      TS 101/500
#  4 t100      A d100 seq 1001 TS 102/500
#  5 t800      B ACK ack 1101 TS 501/102   0.7 s later: > 0.5 forgotten; 10: sample
#  6 t1000     A d100 seq 1101 TS 103/501
#  7 t1500     B ACK ack 1201 TS 502/103   exactly 0.5 s: still pending
#  8 t2000     A d100 seq 1201 TS 104/502
#  9 t2500.000001 B ACK ack 1301 TS 503/104  0.5 s + 1 ns: forgotten at 0.5
# 10 t3000     A d100 seq 1301 TS 105/503
# 11 t3600     A d100 seq 1401 TS 106/503   tmax = 3.6: entries of frame 10 are
#                                          0.6 s old -> forgotten at 0.5
# 12 t3400     B ACK ack 1401 TS 504/105   captured "earlier" (3.4), only 0.4 s
#                                          after frame 10, but tmax is 3.6
# 13 t3700     B ACK ack 1501 TS 505/106   0.1 s from frame 11
# ==========================================================================
def max_age():
    cap = Capture()
    c = Conn(cap, "10.0.0.1", 40004, "10.0.0.2", 80)
    F(1, c.a(ms(0), "S", 1000, 0, ts=(100, 0)))
    F(2, c.b(ms(10), "SA", 5000, 1001, ts=(500, 100)))
    F(3, c.a(ms(20), "A", 1001, 5001, ts=(101, 500)))
    F(4, c.a(ms(100), "PA", 1001, 5001, data=100, ts=(102, 500)))
    F(5, c.b(ms(800), "A", 5001, 1101, ts=(501, 102)))
    F(6, c.a(ms(1000), "PA", 1101, 5001, data=100, ts=(103, 501)))
    F(7, c.b(ms(1500), "A", 5001, 1201, ts=(502, 103)))
    F(8, c.a(ms(2000), "PA", 1201, 5001, data=100, ts=(104, 502)))
    F(9, c.b(ms(2500) + 1, "A", 5001, 1301, ts=(503, 104)))
    F(10, c.a(ms(3000), "PA", 1301, 5001, data=100, ts=(105, 503)))
    F(11, c.a(ms(3600), "PA", 1401, 5001, data=100, ts=(106, 503)))
    F(12, c.b(ms(3400), "A", 5001, 1401, ts=(504, 105)))
    F(13, c.b(ms(3700), "A", 5001, 1501, ts=(505, 106)))
    return cap


# ==========================================================================
# wraparound.pcap   (A 10.0.0.1:40005 <-> B 10.0.0.2:80)
# seq, ack and TSval all cross 2^32.
#
#  1 t0  A SYN      seq 2^32-150             TS 2^32-2 / 0
#  2 t10 B SYN-ACK  seq 2^32-50  ack 2^32-149 TS 2^32-1 / 2^32-2
#  3 t20 A d200     seq 2^32-149 ack 2^32-49  TS 2^32-1 / 2^32-1  end wraps to 51
#  4 t30 B d100     seq 2^32-49  ack 51       TS 0 / 2^32-1       TSval wraps; end 51
#  5 t40 A d100     seq 51       ack 51       TS 1 / 0
#  6 t50 B ACK      seq 51       ack 151      TS 1 / 1
#  7 t60 A d200     seq 2^32-149 ack 51       TS 2 / 1   retransmission across the
#                                             wrap: seqgap -300
#  8 t70 B ACK      seq 51       ack 151      TS 2 / 2   duplicate ACK of frame 6
# Serial-order extremes (no TS; A's high_end is 151 here):
#  9 t80 A ACK      seq 151+2^31   ack 51   exactly 2^31 ahead: neither before nor
#                                           after; seqgap -2^31, high_end unchanged
# 10 t90 A ACK      seq 151+2^31-1 ack 51   after high_end: seqgap 2^31-1, new high_end
# 11 t100 A ACK     seq 151        ack 51   seqgap 151-(150+2^31) = -(2^31-1)
# ==========================================================================
def wraparound():
    W = 1 << 32
    cap = Capture()
    c = Conn(cap, "10.0.0.1", 40005, "10.0.0.2", 80)
    F(1, c.a(ms(0), "S", W - 150, 0, ts=(W - 2, 0)))
    F(2, c.b(ms(10), "SA", W - 50, W - 149, ts=(W - 1, W - 2)))
    F(3, c.a(ms(20), "PA", W - 149, W - 49, data=200, ts=(W - 1, W - 1)))
    F(4, c.b(ms(30), "PA", W - 49, 51, data=100, ts=(0, W - 1)))
    F(5, c.a(ms(40), "PA", 51, 51, data=100, ts=(1, 0)))
    F(6, c.b(ms(50), "A", 51, 151, ts=(1, 1)))
    F(7, c.a(ms(60), "PA", W - 149, 51, data=200, ts=(2, 1)))
    F(8, c.b(ms(70), "A", 51, 151, ts=(2, 2)))
    F(9, c.a(ms(80), "A", 151 + (1 << 31), 51))
    F(10, c.a(ms(90), "A", 151 + (1 << 31) - 1, 51))
    F(11, c.a(ms(100), "A", 151, 51))
    return cap


# ==========================================================================
# port_reuse.pcap   (A 10.0.0.1:40006 <-> B 10.0.0.2:80 twice)
#
# Connection 1 (tcp.stream 0), 5 ms round trips:
#  1 t0    A SYN      seq 1000            TS 100/0
#  2 t5    B SYN-ACK  seq 5000 ack 1001   TS 500/100
#  3 t10   A d100     seq 1001 ack 5001   TS 101/500
#  4 t15   B ACK      ack 1101            TS 501/101
#  5 t20   A FIN-ACK  seq 1101            TS 102/501
#  6 t25   B FIN-ACK  seq 5001 ack 1102   TS 502/102
#  7 t30   A ACK      seq 1102 ack 5002   TS 103/502
# Connection 2 on the same 4-tuple, new ISNs (tcp.stream 1), 10 ms:
#  8 t1000 A SYN      seq 90000           TS 200/0     first packet of a new flow
#  9 t1010 B SYN-ACK  seq 70000 ack 90001 TS 600/200   minrtd 10 ms, not 5
# 10 t1020 A d50      seq 90001 ack 70001 TS 201/600   flowbytes restart at 50
# 11 t1030 B ACK      ack 90051           TS 601/201
# ==========================================================================
def port_reuse():
    cap = Capture()
    c = Conn(cap, "10.0.0.1", 40006, "10.0.0.2", 80)
    F(1, c.a(ms(0), "S", 1000, 0, ts=(100, 0)))
    F(2, c.b(ms(5), "SA", 5000, 1001, ts=(500, 100)))
    F(3, c.a(ms(10), "PA", 1001, 5001, data=100, ts=(101, 500)))
    F(4, c.b(ms(15), "A", 5001, 1101, ts=(501, 101)))
    F(5, c.a(ms(20), "FA", 1101, 5001, ts=(102, 501)))
    F(6, c.b(ms(25), "FA", 5001, 1102, ts=(502, 102)))
    F(7, c.a(ms(30), "A", 1102, 5002, ts=(103, 502)))
    F(8, c.a(ms(1000), "S", 90000, 0, ts=(200, 0)))
    F(9, c.b(ms(1010), "SA", 70000, 90001, ts=(600, 200)))
    F(10, c.a(ms(1020), "PA", 90001, 70001, data=50, ts=(201, 600)))
    F(11, c.b(ms(1030), "A", 70001, 90051, ts=(601, 201)))
    return cap


# ==========================================================================
# syn_retransmit.pcap
#
# Connection 1 (A 10.0.0.1:40007): SYN retransmitted with the same TSval
#  1 t0    A SYN     seq 1000           TS 100/0
#  2 t1000 A SYN     seq 1000           TS 100/0   Karn: removes TS 100 and seq 1001
#  3 t1010 B SYN-ACK seq 5000 ack 1001  TS 500/100 nothing to match
#  4 t1020 A ACK     seq 1001 ack 5001  TS 101/500 10 ms
# Connection 2 (A 10.0.0.1:40008): SYN retransmitted with a new TSval
#  5 t2000 A SYN     seq 2000           TS 200/0
#  6 t3000 A SYN     seq 2000           TS 1200/0  Karn removes 200 and seq 2001,
#                                                 records TS 1200
#  7 t3010 B SYN-ACK seq 6000 ack 2001  TS 600/1200 tsrtd 10 ms from frame 6, no seqrtd
#  8 t3020 A ACK     seq 2001 ack 6001  TS 1201/600 10 ms
# ==========================================================================
def syn_retransmit():
    cap = Capture()
    c = Conn(cap, "10.0.0.1", 40007, "10.0.0.2", 80)
    F(1, c.a(ms(0), "S", 1000, 0, ts=(100, 0)))
    F(2, c.a(ms(1000), "S", 1000, 0, ts=(100, 0)))
    F(3, c.b(ms(1010), "SA", 5000, 1001, ts=(500, 100)))
    F(4, c.a(ms(1020), "A", 1001, 5001, ts=(101, 500)))
    d = Conn(cap, "10.0.0.1", 40008, "10.0.0.2", 80)
    F(5, d.a(ms(2000), "S", 2000, 0, ts=(200, 0)))
    F(6, d.a(ms(3000), "S", 2000, 0, ts=(1200, 0)))
    F(7, d.b(ms(3010), "SA", 6000, 2001, ts=(600, 1200)))
    F(8, d.a(ms(3020), "A", 2001, 6001, ts=(1201, 600)))
    return cap


# ==========================================================================
# dupacks.pcap   (A 10.0.0.1:40009 <-> B 10.0.0.2:80, no TS)
# B's window is 65535 unless given.
#
#  1 t0  A SYN     seq 1000
#  2 t10 B SYN-ACK seq 5000 ack 1001
#  3 t20 A ACK     seq 1001 ack 5001
#  4 t30 A d100    seq 1001
#  5 t31 A d100    seq 1101   (lost downstream of the CP)
#  6 t32 A d100    seq 1201
#  7 t33 A d100    seq 1301
#  8 t34 A d100    seq 1401
#  9 t40 B ACK     ack 1101   original ACK (ACK number changes)
# 10 t42 B ACK     ack 1101   dup 1, 2 ms after frame 9
# 11 t43 B ACK     ack 1101   dup 2
# 12 t44 B ACK     ack 1101   dup 3
# 13 t45 A d100    seq 1101   fast retransmission
# 14 t46 B ACK     ack 1101 win 65000   window changed: not a dup
# 15 t47 B ACK     ack 1101 win 65000   dup 4 (still counted from frame 9)
# 16 t48 B ACK     ack 1101 win 0       window 0: not a dup
# 17 t49 B ACK     ack 1101 win 0       window 0 (== previous): not a dup
# 18 t50 A d1      seq 1501   zero-window probe (B's previous packet: window 0)
# 19 t51 A d1      seq 1501   zero-window probe again (high_end not advanced)
# 20 t52 B ACK     ack 1101 win 65000   window update: not a dup
# 21 t53 B ACK     ack 1101 win 65000   dup 5
# 22 t54 B ACK     seq 4990 ack 1101    seq != high_end: not a dup
# 23 t55 B ACK     seq 5001 ack 1101    dup 6
# 24 t56 A ACK     seq 1500 ack 5001    keepalive (seq = high_end - 1, no payload)
# 25 t57 B ACK     ack 1101             reverse flow's previous packet is a
#                                       keepalive: not a dup
# 26 t58 B ACK     ack 1101             still (A sent nothing since): not a dup
# 27 t60 A d100    seq 1501             new data
# 28 t61 B ACK     ack 1101             dup 7
# 29 t70 B ACK     ack 1601             ACK changed: not a dup; seqrtd 10 ms
# 30 t71 B ACK     ack 1601             dup 1 (numbering restarts at frame 29)
# 31 t72 B RST-ACK ack 1601             RST: not a dup
# ==========================================================================
def dupacks():
    cap = Capture()
    c = Conn(cap, "10.0.0.1", 40009, "10.0.0.2", 80)
    F(1, c.a(ms(0), "S", 1000, 0))
    F(2, c.b(ms(10), "SA", 5000, 1001))
    F(3, c.a(ms(20), "A", 1001, 5001))
    for i, t in enumerate([30, 31, 32, 33, 34]):
        F(4 + i, c.a(ms(t), "PA", 1001 + 100 * i, 5001, data=100))
    F(9, c.b(ms(40), "A", 5001, 1101))
    F(10, c.b(ms(42), "A", 5001, 1101))
    F(11, c.b(ms(43), "A", 5001, 1101))
    F(12, c.b(ms(44), "A", 5001, 1101))
    F(13, c.a(ms(45), "PA", 1101, 5001, data=100))
    F(14, c.b(ms(46), "A", 5001, 1101, win=65000))
    F(15, c.b(ms(47), "A", 5001, 1101, win=65000))
    F(16, c.b(ms(48), "A", 5001, 1101, win=0))
    F(17, c.b(ms(49), "A", 5001, 1101, win=0))
    F(18, c.a(ms(50), "PA", 1501, 5001, data=1))
    F(19, c.a(ms(51), "PA", 1501, 5001, data=1))
    F(20, c.b(ms(52), "A", 5001, 1101, win=65000))
    F(21, c.b(ms(53), "A", 5001, 1101, win=65000))
    F(22, c.b(ms(54), "A", 4990, 1101, win=65000))
    F(23, c.b(ms(55), "A", 5001, 1101, win=65000))
    F(24, c.a(ms(56), "A", 1500, 5001))
    F(25, c.b(ms(57), "A", 5001, 1101, win=65000))
    F(26, c.b(ms(58), "A", 5001, 1101, win=65000))
    F(27, c.a(ms(60), "PA", 1501, 5001, data=100))
    F(28, c.b(ms(61), "A", 5001, 1101, win=65000))
    F(29, c.b(ms(70), "A", 5001, 1601, win=65000))
    F(30, c.b(ms(71), "A", 5001, 1601, win=65000))
    F(31, c.b(ms(72), "RA", 5001, 1601, win=65000))
    return cap


# ==========================================================================
# icmp_error.pcap
#
# IPv4 connection (A 10.0.0.1:40020 <-> B 10.0.0.2:80), tcp.stream 0:
#  1 t0   A SYN      TS 100/0
#  2 t10  B SYN-ACK  TS 500/100
#  3 t20  A ACK      seq 1001 ack 5001 TS 101/500
#  4 t30  A d100     seq 1001          TS 102/500
#  5 t31  ICMP 3/4 (frag needed, MTU 1400) from router 10.0.0.254 to A quoting
#         frame 4's IP+TCP headers and 8 payload bytes; if analysed it would be a
#         retransmission (Karn) and count 100 bytes again
#  6 t40  B ACK      ack 1101          TS 501/102   10 ms from frame 4
#  7 t41  ICMP 3/3 (port unreachable) from A to B quoting a copy of frame 6; if
#         analysed it would be a duplicate ACK
#  8 t50  B ACK      ack 1101          TS 501/102   the first duplicate of frame 6
# IPv6 connection ([2001:db8::1]:40021 <-> [2001:db8::2]:443), tcp.stream 1:
#  9 t100 A SYN      TS 200/0
# 10 t110 B SYN-ACK  TS 600/200
# 11 t120 A d100     seq 1001 ack 5001 TS 201/600
# 12 t121 ICMPv6 2 (packet too big, MTU 1280) from 2001:db8::fe to A quoting
#         frame 11
# 13 t130 B ACK      ack 1101          TS 601/201   10 ms from frame 11
# 14 t131 ICMPv6 1/4 (port unreachable) from A to B quoting a copy of frame 13
# 15 t140 B ACK      ack 1101          TS 601/201   first duplicate of frame 13
# ==========================================================================
def icmp_error():
    cap = Capture()
    c = Conn(cap, "10.0.0.1", 40020, "10.0.0.2", 80)
    F(1, c.a(ms(0), "S", 1000, 0, ts=(100, 0)))
    F(2, c.b(ms(10), "SA", 5000, 1001, ts=(500, 100)))
    F(3, c.a(ms(20), "A", 1001, 5001, ts=(101, 500)))
    data4 = dict(data=100, ts=(102, 500))
    F(4, c.a(ms(30), "PA", 1001, 5001, **data4))
    q = c.ip_packet("a", "PA", 1001, 5001, **data4)
    quoted = q[:20 + 32 + 8]
    F(5, cap.add(ms(31), ether(icmp4_error("10.0.0.254", "10.0.0.1", 3, 4, quoted,
                                           rest=1400, ident=0x777),
                               0x0800, MAC_R, MAC_A)))
    ack6 = dict(ts=(501, 102))
    F(6, c.b(ms(40), "A", 5001, 1101, **ack6))
    q = c.ip_packet("b", "A", 5001, 1101, **ack6)
    F(7, cap.add(ms(41), ether(icmp4_error("10.0.0.1", "10.0.0.2", 3, 3, q, ident=0x778),
                               0x0800, MAC_A, MAC_B)))
    F(8, c.b(ms(50), "A", 5001, 1101, **ack6))

    d = Conn(cap, "2001:db8::1", 40021, "2001:db8::2", 443)
    F(9, d.a(ms(100), "S", 1000, 0, ts=(200, 0)))
    F(10, d.b(ms(110), "SA", 5000, 1001, ts=(600, 200)))
    data11 = dict(data=100, ts=(201, 600))
    F(11, d.a(ms(120), "PA", 1001, 5001, **data11))
    q = d.ip_packet("a", "PA", 1001, 5001, **data11)
    F(12, cap.add(ms(121), ether(icmp6_error("2001:db8::fe", "2001:db8::1", 2, 0, q,
                                             rest=1280), 0x86DD, MAC_R, MAC_A)))
    ack13 = dict(ts=(601, 201))
    F(13, d.b(ms(130), "A", 5001, 1101, **ack13))
    q = d.ip_packet("b", "A", 5001, 1101, **ack13)
    F(14, cap.add(ms(131), ether(icmp6_error("2001:db8::1", "2001:db8::2", 1, 4, q),
                                 0x86DD, MAC_A, MAC_B)))
    F(15, d.b(ms(140), "A", 5001, 1101, **ack13))
    return cap


# ==========================================================================
# encaps family: encaps.pcap (Ethernet II), vlan.pcap (802.1Q VID 100),
# sll.pcap (Linux cooked, DLT 113), ipv6.pcap (Ethernet, IPv6
# [2001:db8::1]:40030 <-> [2001:db8::2]:80), ipip.pcap (the IPv4 packets
# inside IPv4 192.0.2.1 <-> 192.0.2.2, protocol 4), sit.pcap (the IPv6
# packets inside IPv4, protocol 41): the flow is the inner addresses.  Same conversation, same values
# (only connmon.flow differs for IPv6).  A 10.0.0.1:40030 <-> B 10.0.0.2:80:
#  1 t0  A SYN      seq 1000           TS 100/0
#  2 t10 B SYN-ACK  seq 5000 ack 1001  TS 500/100
#  3 t20 A ACK      seq 1001 ack 5001  TS 101/500
#  4 t25 A d100     seq 1001           TS 102/500
#  5 t26 A d100     seq 1201           TS 102/500   hole 1101..1201: seqgap +100
#  6 t35 B ACK      ack 1101           TS 501/102
#  7 t36 B ACK      ack 1101           TS 501/102   duplicate ACK
#  8 t40 A d100     seq 1101           TS 103/501   fills the hole (seqgap -200);
#                                                 echoes B's pure ACK with data
#                                                 in flight
#  9 t50 B d300     seq 5001 ack 1301  TS 502/103
# 10 t60 A ACK      seq 1301 ack 5301  TS 104/502
# ==========================================================================
def encaps_conv(cap, a_ip, b_ip, link):
    c = Conn(cap, a_ip, 40030, b_ip, 80, link=link)
    F(1, c.a(ms(0), "S", 1000, 0, ts=(100, 0)))
    F(2, c.b(ms(10), "SA", 5000, 1001, ts=(500, 100)))
    F(3, c.a(ms(20), "A", 1001, 5001, ts=(101, 500)))
    F(4, c.a(ms(25), "PA", 1001, 5001, data=100, ts=(102, 500)))
    F(5, c.a(ms(26), "PA", 1201, 5001, data=100, ts=(102, 500)))
    F(6, c.b(ms(35), "A", 5001, 1101, ts=(501, 102)))
    F(7, c.b(ms(36), "A", 5001, 1101, ts=(501, 102)))
    F(8, c.a(ms(40), "PA", 1101, 5001, data=100, ts=(103, 501)))
    F(9, c.b(ms(50), "PA", 5001, 1301, data=300, ts=(502, 103)))
    F(10, c.a(ms(60), "A", 1301, 5301, ts=(104, 502)))
    return cap


def encaps():
    return encaps_conv(Capture(), "10.0.0.1", "10.0.0.2", "eth")


def vlan():
    return encaps_conv(Capture(), "10.0.0.1", "10.0.0.2", "vlan")


def sll():
    return encaps_conv(Capture(DLT_LINUX_SLL), "10.0.0.1", "10.0.0.2", "sll")


def ipv6():
    return encaps_conv(Capture(), "2001:db8::1", "2001:db8::2", "eth")


def ipip():
    return encaps_conv(Capture(), "10.0.0.1", "10.0.0.2", "ipip")


def sit():
    return encaps_conv(Capture(), "2001:db8::1", "2001:db8::2", "ipip")


# ==========================================================================
# malformed.pcap   (A 10.0.0.1:40040 <-> B 10.0.0.2:80)
#
#  1 t0  A SYN      TS 100/0
#  2 t10 B SYN-ACK  TS 500/100
#  3 t20 A ACK      seq 1001 ack 5001 TS 101/500
#  4 t30 A d100     seq 1001          TS 102/500
#  5 t31 A "d100"   seq 1001, data offset 4 (16 bytes): bogus, skipped (if
#        analysed: a retransmission removing the entries of frame 4)
#  6 t32 A          seq 1001, IP total length 32: only 12 bytes for the TCP
#        header: skipped (the full 20-byte header is in the frame)
#  7 t40 B ACK      ack 1101          TS 501/102   10 ms from frame 4
#  8 t45 A d100     seq 1101 TS 103/501, capture cut 30 bytes into the TCP
#        header (inside TSecr): analysed, TS absent (103 is not recorded, 501
#        not echoed); payload still 100 (from the IP length)
#  9 t55 B ACK      ack 1201          TS 502/103   seqrtd 10 ms; no tsrtd
# 10 t60 A d100     seq 1201 with two TS options: 104/999 then 105/502; the
#        last counts (105 recorded, 502 echoed)
# 11 t70 B ACK      ack 1301          TS 503/105   tsrtd 10 ms from frame 10
# 12 t71 ARP request (no IP)
# 13 t72 UDP 10.0.0.1:5353 -> 10.0.0.2:53
# 14 t80 A d100     seq 1301          TS 106/503
# 15 t90 B ACK      ack 1401          TS 504/106   10 ms from frame 14
# ==========================================================================
def malformed():
    cap = Capture()
    c = Conn(cap, "10.0.0.1", 40040, "10.0.0.2", 80)
    F(1, c.a(ms(0), "S", 1000, 0, ts=(100, 0)))
    F(2, c.b(ms(10), "SA", 5000, 1001, ts=(500, 100)))
    F(3, c.a(ms(20), "A", 1001, 5001, ts=(101, 500)))
    F(4, c.a(ms(30), "PA", 1001, 5001, data=100, ts=(102, 500)))
    F(5, c.a(ms(31), "PA", 1001, 5001, data=100, opts=b"", doff=4))
    F(6, c.a(ms(32), "PA", 1001, 5001, data=0, opts=b"", ip_len=20 + 12))
    F(7, c.b(ms(40), "A", 5001, 1101, ts=(501, 102)))
    F(8, c.a(ms(45), "PA", 1101, 5001, data=100, ts=(103, 501), caplen_tcp=30))
    F(9, c.b(ms(55), "A", 5001, 1201, ts=(502, 103)))
    two_ts = opt_nop() + opt_nop() + opt_ts(104, 999) + opt_nop() + opt_nop() + opt_ts(105, 502)
    F(10, c.a(ms(60), "PA", 1201, 5001, data=100, opts=two_ts))
    F(11, c.b(ms(70), "A", 5001, 1301, ts=(503, 105)))
    arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, bytes.fromhex("02000000000a"),
                      bytes([10, 0, 0, 1]), b"\0" * 6, bytes([10, 0, 0, 2]))
    F(12, cap.add(ms(71), ether(arp, 0x0806, MAC_A, "ff:ff:ff:ff:ff:ff")))
    udp_payload = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x01"
    udp = struct.pack("!HHHH", 5353, 53, 8 + len(udp_payload), 0) + udp_payload
    F(13, cap.add(ms(72), ether(ipv4("10.0.0.1", "10.0.0.2", 17, udp, ident=0x999),
                                0x0800, MAC_A, MAC_B)))
    F(14, c.a(ms(80), "PA", 1301, 5001, data=100, ts=(106, 503)))
    F(15, c.b(ms(90), "A", 5001, 1401, ts=(504, 106)))
    return cap


# ==========================================================================
# tcp_cut.pcap   (A 10.0.0.1:40041 <-> B 10.0.0.2:80, no TS)
# What does Wireshark make of a TCP header cut by the snaplen after 16..19
# bytes (window present, checksum / urgent pointer cut)?  Each cut packet
# is new data (d100) so that, if analysed, it moves high_end.
#  1 t0  A SYN     seq 1000
#  2 t10 B SYN-ACK seq 5000 ack 1001
#  3 t20 A ACK     seq 1001 ack 5001
#  4 t30 A d100    seq 1001, 16 bytes of TCP captured
#  5 t31 A d100    seq 1101, 17 bytes
#  6 t32 A d100    seq 1201, 18 bytes
#  7 t33 A d100    seq 1301, 19 bytes
#  8 t34 A d100    seq 1401, 20 bytes (whole header, payload cut)
#  9 t40 A d100    seq 1501, complete
# 10 t50 B ACK     ack 1601
# ==========================================================================
def tcp_cut():
    cap = Capture()
    c = Conn(cap, "10.0.0.1", 40041, "10.0.0.2", 80)
    F(1, c.a(ms(0), "S", 1000, 0))
    F(2, c.b(ms(10), "SA", 5000, 1001))
    F(3, c.a(ms(20), "A", 1001, 5001))
    for i, cut in enumerate([16, 17, 18, 19, 20]):
        F(4 + i, c.a(ms(30 + i), "PA", 1001 + 100 * i, 5001, data=100, caplen_tcp=cut))
    F(9, c.a(ms(40), "PA", 1501, 5001, data=100))
    F(10, c.b(ms(50), "A", 5001, 1601))
    return cap


# ==========================================================================
# time_backwards.pcap   (A 10.0.0.1:40050 <-> B 10.0.0.2:80)
#
#  1 t100 A SYN      TS 100/0
#  2 t110 B SYN-ACK  TS 500/100
#  3 t120 A ACK      seq 1001 ack 5001 TS 101/500
#  4 t130 A d100     seq 1001          TS 102/500
#  5 t125 B ACK      ack 1101          TS 501/102   before frame 4: no samples, the
#                                                   entries are used up
#  6 t140 B ACK      ack 1101          TS 501/102   duplicate ACK, 15 ms after 5;
#                                                   no second chance for 102/1101
#  7 t150 A d100     seq 1101          TS 103/501
#  8 t145 A d100     seq 1201          TS 104/501   A's own time goes backwards
#  9 t155 B ACK      ack 1301          TS 502/104   10 ms from frame 8
# 10 t150 B ACK      ack 1301          TS 502/104   duplicate ACK 5 ms *before* its
#                                                   original (negative age)
# 11 t170 A FIN-ACK  seq 1301          TS 105/502
# 12 t180 B FIN-ACK  seq 5001 ack 1302 TS 503/105   10 ms
# ==========================================================================
def time_backwards():
    cap = Capture()
    c = Conn(cap, "10.0.0.1", 40050, "10.0.0.2", 80)
    F(1, c.a(ms(100), "S", 1000, 0, ts=(100, 0)))
    F(2, c.b(ms(110), "SA", 5000, 1001, ts=(500, 100)))
    F(3, c.a(ms(120), "A", 1001, 5001, ts=(101, 500)))
    F(4, c.a(ms(130), "PA", 1001, 5001, data=100, ts=(102, 500)))
    F(5, c.b(ms(125), "A", 5001, 1101, ts=(501, 102)))
    F(6, c.b(ms(140), "A", 5001, 1101, ts=(501, 102)))
    F(7, c.a(ms(150), "PA", 1101, 5001, data=100, ts=(103, 501)))
    F(8, c.a(ms(145), "PA", 1201, 5001, data=100, ts=(104, 501)))
    F(9, c.b(ms(155), "A", 5001, 1301, ts=(502, 104)))
    F(10, c.b(ms(150), "A", 5001, 1301, ts=(502, 104)))
    F(11, c.a(ms(170), "FA", 1301, 5001, ts=(105, 502)))
    F(12, c.b(ms(180), "FA", 5001, 1302, ts=(503, 105)))
    return cap


# ==========================================================================
# max_age_streams.pcap: tmax is per stream and counts analysed packets only.
# Tests run it with rtd_max_age 0.5 (and 10).
# Stream 0 A 10.0.0.1:40060 <-> B 10.0.0.2:80, stream 1 C 10.0.0.3:40061 <-> B.
#  1 t0    A SYN      seq 1000          TS 100/0
#  2 t10   B SYN-ACK  seq 5000 ack 1001 TS 500/100
#  3 t20   A d100     seq 1001 ack 5001 TS 101/500  entries 101 / 1101 at t20
#  4 t900  C SYN      seq 3000          TS 300/0    another stream, much later
#  5 t910  B SYN-ACK  seq 7000 ack 3001 TS 700/300
#  6 t400  B ACK      ack 1101          TS 501/101  380 ms: stream 0's tmax is 0.4
#                                                   (frame 4 is not in its stream)
#  7 t1000 A d100     seq 1101          TS 102/501  entries 102 / 1201 at t1000
#  8 t1900 ICMP 3/4 quoting frame 7: not analysed, does not move tmax
#  9 t1400 B ACK      ack 1201          TS 502/102  400 ms
# 10 t2000 A d100     seq 1201          TS 103/502  entries 103 / 1301 at t2000
# 11 t2900 A, data offset 4 (skipped although Wireshark gives it tcp.stream 0)
# 12 t2400 B ACK      ack 1301          TS 503/103  400 ms
# 13 t3000 A d100     seq 1301          TS 104/503  entries 104 / 1401 at t3000
# 14 t3600 B d10      seq 5001 ack 1301 TS 504/103  the reverse direction moves
#                                                   tmax to 3.6
# 15 t3400 B ACK      seq 5011 ack 1401 TS 504/104  0.6 s after 13 at tmax:
#                                                   forgotten at 0.5
# 16 t3700 A ACK      seq 1401 ack 5011 TS 105/504  100 ms from frame 14
# ==========================================================================
def max_age_streams():
    cap = Capture()
    c = Conn(cap, "10.0.0.1", 40060, "10.0.0.2", 80)
    d = Conn(cap, "10.0.0.3", 40061, "10.0.0.2", 80)
    F(1, c.a(ms(0), "S", 1000, 0, ts=(100, 0)))
    F(2, c.b(ms(10), "SA", 5000, 1001, ts=(500, 100)))
    F(3, c.a(ms(20), "PA", 1001, 5001, data=100, ts=(101, 500)))
    F(4, d.a(ms(900), "S", 3000, 0, ts=(300, 0)))
    F(5, d.b(ms(910), "SA", 7000, 3001, ts=(700, 300)))
    F(6, c.b(ms(400), "A", 5001, 1101, ts=(501, 101)))
    d7 = dict(data=100, ts=(102, 501))
    F(7, c.a(ms(1000), "PA", 1101, 5001, **d7))
    q = c.ip_packet("a", "PA", 1101, 5001, **d7)
    F(8, cap.add(ms(1900), ether(icmp4_error("10.0.0.254", "10.0.0.1", 3, 4, q[:20 + 32 + 8],
                                             rest=1400, ident=0x777), 0x0800, MAC_R, MAC_A)))
    F(9, c.b(ms(1400), "A", 5001, 1201, ts=(502, 102)))
    F(10, c.a(ms(2000), "PA", 1201, 5001, data=100, ts=(103, 502)))
    F(11, c.a(ms(2900), "PA", 1301, 5001, data=100, opts=b"", doff=4))
    F(12, c.b(ms(2400), "A", 5001, 1301, ts=(503, 103)))
    F(13, c.a(ms(3000), "PA", 1301, 5001, data=100, ts=(104, 503)))
    F(14, c.b(ms(3600), "PA", 5001, 1301, data=10, ts=(504, 103)))
    F(15, c.b(ms(3400), "A", 5011, 1401, ts=(504, 104)))
    F(16, c.a(ms(3700), "A", 1401, 5011, ts=(105, 504)))
    return cap


# ==========================================================================
# ts_more.pcap   (A 10.0.0.1:40070 <-> B 10.0.0.2:80), capture starts
# mid-connection with B's pure ACKs.  B's window is 65535 throughout.
#  1 t0   B ACK  seq 5001 ack 1001     TS 500/90   first TS packet of BA: floor
#  2 t10  B ACK  (same)                TS 501/90   recorded (pure); duplicate ACK
#                                                  of frame 1 (the flow's first)
#  3 t20  A d100 seq 1001 ack 5001     TS 100/501  A's first packet echoes the pure
#                                                  ACK: high_end(A) unset -> no
#                                                  sample in clocked mode
#  4 t30  A d100 seq 1101              TS 102/501
#  5 t31  A d100 seq 1201              TS 101/501  TSval below the floor 102: not
#                                                  recorded
#  6 t41  B ACK  ack 1301              TS 502/101  echo of 101: nothing
#  7 t50  A d100 seq 1301              TS 103/502
#  8 t60  B d10 (PSH only, no ACK flag) seq 5001 TS 503/103: no match without ACK
#  9 t70  B ACK  seq 5011 ack 1401     TS 504/103  the echo with ACK: 20 ms
# 10 t80  A ACK  seq 1401 ack 5011     TS 104/504  pure ACK 104
# 11 t81  A d100 seq 1401              TS 104/504  data takes over 104 (range
#                                                  [1401,1501), time 80)
# 12 t300 A d100 seq 1401              TS 105/504  retransmission: Karn removes
#                                                  104 through its new range
# 13 t310 B ACK  ack 1501              TS 505/104  nothing
# 14 t320 A d100 seq 1501              TS 106/505
# 15 t600 A d100 seq 1501, NO TS option: Karn removes TS 106 all the same
# 16 t610 B ACK  ack 1601              TS 506/106  nothing
# 17 t620 A ACK  seq 1601 win 65000    TS 107/506  pure ACK 107, empty range
# 18 t621 A d100 seq 1601 win 65000    TS 108/506
# 19 t900 A d100 seq 1601 win 65000    TS 109/506  retransmission: removes 108,
#                                                  not the empty-range 107
# 20 t910 B ACK  ack 1701              TS 507/107  echo of 107 (B idle): `all` 290
# 21 t920 B ACK+ECE  ack 1701          duplicate 1 of frame 20
# 22 t930 B PSH+ACK  ack 1701 (no data) duplicate 2
# 23 t940 B ACK+CWR  ack 1701          duplicate 3
# ==========================================================================
def ts_more():
    cap = Capture()
    c = Conn(cap, "10.0.0.1", 40070, "10.0.0.2", 80)
    F(1, c.b(ms(0), "A", 5001, 1001, ts=(500, 90)))
    F(2, c.b(ms(10), "A", 5001, 1001, ts=(501, 90)))
    F(3, c.a(ms(20), "PA", 1001, 5001, data=100, ts=(100, 501)))
    F(4, c.a(ms(30), "PA", 1101, 5001, data=100, ts=(102, 501)))
    F(5, c.a(ms(31), "PA", 1201, 5001, data=100, ts=(101, 501)))
    F(6, c.b(ms(41), "A", 5001, 1301, ts=(502, 101)))
    F(7, c.a(ms(50), "PA", 1301, 5001, data=100, ts=(103, 502)))
    F(8, c.b(ms(60), "P", 5001, 1301, data=10, ts=(503, 103)))
    F(9, c.b(ms(70), "A", 5011, 1401, ts=(504, 103)))
    F(10, c.a(ms(80), "A", 1401, 5011, ts=(104, 504)))
    F(11, c.a(ms(81), "PA", 1401, 5011, data=100, ts=(104, 504)))
    F(12, c.a(ms(300), "PA", 1401, 5011, data=100, ts=(105, 504)))
    F(13, c.b(ms(310), "A", 5011, 1501, ts=(505, 104)))
    F(14, c.a(ms(320), "PA", 1501, 5011, data=100, ts=(106, 505)))
    F(15, c.a(ms(600), "PA", 1501, 5011, data=100))
    F(16, c.b(ms(610), "A", 5011, 1601, ts=(506, 106)))
    F(17, c.a(ms(620), "A", 1601, 5011, win=65000, ts=(107, 506)))
    F(18, c.a(ms(621), "PA", 1601, 5011, win=65000, data=100, ts=(108, 506)))
    F(19, c.a(ms(900), "PA", 1601, 5011, win=65000, data=100, ts=(109, 506)))
    F(20, c.b(ms(910), "A", 5011, 1701, ts=(507, 107)))
    F(21, c.b(ms(920), "AE", 5011, 1701, ts=(507, 107)))
    F(22, c.b(ms(930), "PA", 5011, 1701, ts=(507, 107)))
    F(23, c.b(ms(940), "AC", 5011, 1701, ts=(507, 107)))
    return cap


# ==========================================================================
# probes.pcap   (A 10.0.0.1:40080 <-> B 10.0.0.2:80)
#  1 t0   A SYN      seq 1000           TS 100/0
#  2 t10  B SYN-ACK  seq 5000 ack 1001  TS 500/100
#  3 t20  A ACK      seq 1001 ack 5001  TS 101/500
#  4 t30  A d100     seq 1001           TS 102/500   entries 102 / 1101
#  5 t35  A d1       seq 1100           TS 103/500   1-byte keepalive (seq =
#                                       high_end - 1): L=1 and end = high_end,
#                                       so the Karn case: removes 102 and 1101;
#                                       its own TSval 103 is recorded
#  6 t45  B ACK      ack 1101           TS 501/103   tsrtd 10 ms (keepalive's TSval)
#  7 t50  B ACK      ack 1101 win 0     TS 502/103
#  8 t60  A d1       seq 1101           TS 104/502   zero-window probe: no seq
#                                       entry, high_end stays 1101
#  9 t70  B ACK      ack 1102 win 65535 TS 503/104   B took the probe byte
# 10 t80  A d100     seq 1102           TS 105/503   seqgap +1 (the probe did not
#                                       advance high_end)
# 11 t90  B ACK      ack 1202           TS 504/105
# 12 t100 A d50      seq 1201           TS 106/504   starts at high_end - 1 with
#                                       new data beyond: seqgap -1, recorded,
#                                       not "behind"
# 13 t110 B ACK      ack 1251           TS 505/106
# ==========================================================================
def probes():
    cap = Capture()
    c = Conn(cap, "10.0.0.1", 40080, "10.0.0.2", 80)
    F(1, c.a(ms(0), "S", 1000, 0, ts=(100, 0)))
    F(2, c.b(ms(10), "SA", 5000, 1001, ts=(500, 100)))
    F(3, c.a(ms(20), "A", 1001, 5001, ts=(101, 500)))
    F(4, c.a(ms(30), "PA", 1001, 5001, data=100, ts=(102, 500)))
    F(5, c.a(ms(35), "A", 1100, 5001, data=b"\0", ts=(103, 500)))
    F(6, c.b(ms(45), "A", 5001, 1101, ts=(501, 103)))
    F(7, c.b(ms(50), "A", 5001, 1101, win=0, ts=(502, 103)))
    F(8, c.a(ms(60), "PA", 1101, 5001, data=1, ts=(104, 502)))
    F(9, c.b(ms(70), "A", 5001, 1102, ts=(503, 104)))
    F(10, c.a(ms(80), "PA", 1102, 5001, data=100, ts=(105, 503)))
    F(11, c.b(ms(90), "A", 5001, 1202, ts=(504, 105)))
    F(12, c.a(ms(100), "PA", 1201, 5001, data=50, ts=(106, 504)))
    F(13, c.b(ms(110), "A", 5001, 1251, ts=(505, 106)))
    return cap


CAPTURES = {
    "handshake_basic.pcap": handshake_basic,
    "pure_ack_modes.pcap": pure_ack_modes,
    "ts_rules.pcap": ts_rules,
    "seq_rules.pcap": seq_rules,
    "max_age.pcap": max_age,
    "wraparound.pcap": wraparound,
    "port_reuse.pcap": port_reuse,
    "syn_retransmit.pcap": syn_retransmit,
    "dupacks.pcap": dupacks,
    "icmp_error.pcap": icmp_error,
    "encaps.pcap": encaps,
    "vlan.pcap": vlan,
    "sll.pcap": sll,
    "ipv6.pcap": ipv6,
    "ipip.pcap": ipip,
    "sit.pcap": sit,
    "max_age_streams.pcap": max_age_streams,
    "ts_more.pcap": ts_more,
    "probes.pcap": probes,
    "malformed.pcap": malformed,
    "tcp_cut.pcap": tcp_cut,
    "time_backwards.pcap": time_backwards,
}


def main(argv):
    out = argv[1] if len(argv) > 1 else OUT
    os.makedirs(out, exist_ok=True)
    for name, fn in CAPTURES.items():
        fn().write(os.path.join(out, name))
    print(f"wrote {len(CAPTURES)} captures to {os.path.normpath(out)}")


if __name__ == "__main__":
    main(sys.argv)
