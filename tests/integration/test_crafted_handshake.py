"""Handshake, port reuse and SYN retransmission (crafted captures, expected
values derived by hand from SPEC.md; see tools/craft/craft.py for what each
packet is)."""
from test_crafted_common import FALSE, assert_frames, connmon_table, row

# --------------------------------------------------------------------------
# handshake_basic.pcap
AB = "10.0.0.1:40000+10.0.0.2:80"
BA = "10.0.0.2:80+10.0.0.1:40000"
CB = "10.0.0.3:41000+10.0.0.2:80"
BC = "10.0.0.2:80+10.0.0.3:41000"

HANDSHAKE_CLOCKED = {
    # 1 A SYN t0: first packet of AB -> no seqgap.  First TS packet of AB is a
    #   SYN: floor unset, rec TS 100 (0, 1, [1000,1001)); L=1: rec seq 1001.
    1: row(AB, 0, 0),
    # 2 B SYN-ACK t10: TSecr 100 matches (10-0); ACK 1001 advances (ah unset),
    #   seq entry 1001 -> 10 ms.  First of BA, SYN: rec TS 500, seq 5001.
    2: row(BA, 0, 0, ts=(10, 1, False), seq=(10, 1), minrtd=10),
    # 3 A ACK t20: seq 1001 - he 1001 = 0; TSecr 500 -> 20-10; ack 5001 -> 10.
    #   Pure ACK: rec TS 101 marked pure (nobody echoes it).
    3: row(AB, 0, 0, seqgap=0, ts=(10, 2, False), seq=(10, 2), minrtd=10),
    # 4 A d100 t21: TSecr 500 already used; ack 5001 does not advance.
    #   rec TS 102 (21, 4), seq 1101 (21, 4).
    4: row(AB, 100, 100, seqgap=0),
    # 5 B d200 t46: TSecr 102 -> 46-21 = 25; ack 1101 -> 25.  minrtd(BA) 10.
    5: row(BA, 200, 200, seqgap=0, ts=(25, 4, False), seq=(25, 4), minrtd=10),
    # 6 A ACK t56: TSecr 501 -> 10 (501 came with data: not pure); ack 5201 -> 10.
    6: row(AB, 0, 100, seqgap=0, ts=(10, 5, False), seq=(10, 5), minrtd=10),
    # 7 A FIN t60: L=1 -> rec seq 1102 (60, 7), TS 104 (60, 7).  Nothing echoed.
    7: row(AB, 0, 100, seqgap=0),
    # 8 B FIN t75: TSecr 104 -> 15; ack 1102 (covers the FIN) -> 15.
    8: row(BA, 0, 200, seqgap=0, ts=(15, 7, False), seq=(15, 7), minrtd=10),
    # 9 A ACK t85: TSecr 502 -> 10; ack 5202 (covers B's FIN) -> 10.
    9: row(AB, 0, 100, seqgap=0, ts=(10, 8, False), seq=(10, 8), minrtd=10),
    # stream 1, no handshake seen.
    # 10 C d50 t100: first of CB, first TS packet not a SYN: floor 5000, TS
    #    not recorded.  ack 70000: ah unset -> advances, nothing pending.
    #    seq entry 20050 (100, 10).
    10: row(CB, 50, 50),
    # 11 B d50 t110: TSecr 5000 -> nothing pending (floor only); floor(BC)
    #    7000, not recorded.  ack 20050 -> 110-100.
    11: row(BC, 50, 50, seq=(10, 10), minrtd=10),
    # 12 C d50 t115: TSval 5000 not > floor 5000: not recorded.  TSecr 7000:
    #    nothing.  ack 70050 -> 115-110 = 5.
    12: row(CB, 50, 100, seqgap=0, seq=(5, 11), minrtd=5),
    # 13 B ACK t125: TSecr 5000 again: nothing.  ack 20100 -> 10.  rec TS 7001 pure.
    13: row(BC, 0, 50, seqgap=0, seq=(10, 12), minrtd=10),
    # 14 C d50 t130: TSecr 7001 is a pure-ACK entry; clocked: he(CB) 20100,
    #    ah(BC) 20100, not he > ah -> no sample (entry removed).  rec TS 5001.
    14: row(CB, 50, 150, seqgap=0),
    # 15 B ACK t145: TSecr 5001 -> 15; ack 20150 -> 15.  minrtd(BC) min(10,10,15).
    15: row(BC, 0, 50, seqgap=0, ts=(15, 14, False), seq=(15, 14), minrtd=10),
}


def test_handshake_basic(tshark):
    assert_frames(connmon_table(tshark, "crafted/handshake_basic.pcap"), HANDSHAKE_CLOCKED)


def test_handshake_basic_default_is_clocked(tshark):
    got = connmon_table(tshark, "crafted/handshake_basic.pcap",
                        ["-o", "connmon.ts_pure_acks:clocked"])
    assert_frames(got, HANDSHAKE_CLOCKED)


def test_handshake_basic_all(tshark):
    exp = dict(HANDSHAKE_CLOCKED)
    # `all`: frame 14's echo of B's pure ACK 7001 (125, 13) counts: 130-125,
    # pureack true; minrtd(CB) = min(5 (frame 12), 5).
    exp[14] = row(CB, 50, 150, seqgap=0, ts=(5, 13, True), minrtd=5)
    got = connmon_table(tshark, "crafted/handshake_basic.pcap", ["-o", "connmon.ts_pure_acks:all"])
    assert_frames(got, exp)


def test_handshake_basic_streams(tshark):
    rows = tshark.fields("crafted/handshake_basic.pcap", ["tcp.stream"])
    assert [r[0] for r in rows] == ["0"] * 9 + ["1"] * 6


def test_handshake_pureack_false_prints(tshark):
    got = connmon_table(tshark, "crafted/handshake_basic.pcap")
    assert got[2]["connmon.tsrtd.pureack"] == FALSE


# --------------------------------------------------------------------------
# port_reuse.pcap: same 4-tuple twice; tcp.stream 0 then 1.
PAB = "10.0.0.1:40006+10.0.0.2:80"
PBA = "10.0.0.2:80+10.0.0.1:40006"

PORT_REUSE = {
    1: row(PAB, 0, 0),
    # 2 SYN-ACK t5: 5 ms both ways.
    2: row(PBA, 0, 0, ts=(5, 1, False), seq=(5, 1), minrtd=5),
    # 3 A d100 t10: TSecr 500 -> 5; ack 5001 -> 5.
    3: row(PAB, 100, 100, seqgap=0, ts=(5, 2, False), seq=(5, 2), minrtd=5),
    # 4 B ACK t15: TSecr 101 -> 5; ack 1101 -> 5.  rec TS 501 pure.
    4: row(PBA, 0, 0, seqgap=0, ts=(5, 3, False), seq=(5, 3), minrtd=5),
    # 5 A FIN t20: TSecr 501 pure; clocked: he(AB) 1101 == ah(BA) 1101 -> none.
    5: row(PAB, 0, 100, seqgap=0),
    # 6 B FIN t25: TSecr 102 -> 5; ack 1102 -> 5.
    6: row(PBA, 0, 0, seqgap=0, ts=(5, 5, False), seq=(5, 5), minrtd=5),
    # 7 A ACK t30: TSecr 502 -> 5; ack 5002 -> 5.  rec TS 103 pure (left pending).
    7: row(PAB, 0, 100, seqgap=0, ts=(5, 6, False), seq=(5, 6), minrtd=5),
    # New connection, new tcp.stream -> new flows, fresh state:
    # 8 A SYN t1000: first of its flow -> no seqgap (would be 90000-1102);
    #   flowbytes restart at 0.
    8: row(PAB, 0, 0),
    # 9 B SYN-ACK t1010: 10 ms; minrtd 10 (not connection 1's 5); no seqgap.
    9: row(PBA, 0, 0, ts=(10, 8, False), seq=(10, 8), minrtd=10),
    # 10 A d50 t1020: flowbytes 50, not 150.
    10: row(PAB, 50, 50, seqgap=0, ts=(10, 9, False), seq=(10, 9), minrtd=10),
    11: row(PBA, 0, 0, seqgap=0, ts=(10, 10, False), seq=(10, 10), minrtd=10),
}


def test_port_reuse_streams(tshark):
    rows = tshark.fields("crafted/port_reuse.pcap", ["tcp.stream"])
    assert [r[0] for r in rows] == ["0"] * 7 + ["1"] * 4


def test_port_reuse(tshark):
    assert_frames(connmon_table(tshark, "crafted/port_reuse.pcap"), PORT_REUSE)


# --------------------------------------------------------------------------
# syn_retransmit.pcap
S1AB = "10.0.0.1:40007+10.0.0.2:80"
S1BA = "10.0.0.2:80+10.0.0.1:40007"
S2AB = "10.0.0.1:40008+10.0.0.2:80"
S2BA = "10.0.0.2:80+10.0.0.1:40008"

SYN_RETRANSMIT = {
    # 1 SYN t0: rec TS 100 (0, 1, [1000,1001)), seq 1001 (0, 1); he 1001.
    1: row(S1AB, 0, 0),
    # 2 SYN again t1000, same TSval: seqgap 1000-1001 = -1.  L=1, end 1001 not
    #   > he 1001: Karn, removes seq 1001 and TS 100 (range overlaps).  TSval
    #   100 not > floor 100: nothing recorded.
    2: row(S1AB, 0, 0, seqgap=-1),
    # 3 SYN-ACK t1010: TSecr 100 and ack 1001 find nothing (Karn).  First of BA.
    3: row(S1BA, 0, 0),
    # 4 ACK t1020: TSecr 500 -> 10; ack 5001 -> 10; seq 1001 - he 1001 = 0.
    4: row(S1AB, 0, 0, seqgap=0, ts=(10, 3, False), seq=(10, 3), minrtd=10),
    # 5 SYN t2000: rec TS 200, seq 2001.
    5: row(S2AB, 0, 0),
    # 6 SYN t3000 with new TSval 1200: seqgap -1; Karn removes seq 2001 and TS
    #   200 (recorded by an earlier packet); 1200 > floor 200 -> rec TS 1200
    #   (3000, 6): a retransmission with a new TSval is timed.
    6: row(S2AB, 0, 0, seqgap=-1),
    # 7 SYN-ACK t3010: TSecr 1200 -> 10 from frame 6; ack 2001: entry removed
    #   by Karn -> no seqrtd.
    7: row(S2BA, 0, 0, ts=(10, 6, False), minrtd=10),
    8: row(S2AB, 0, 0, seqgap=0, ts=(10, 7, False), seq=(10, 7), minrtd=10),
}


def test_syn_retransmit(tshark):
    assert_frames(connmon_table(tshark, "crafted/syn_retransmit.pcap"), SYN_RETRANSMIT)


def test_syn_retransmit_same_stream(tshark):
    rows = tshark.fields("crafted/syn_retransmit.pcap", ["tcp.stream"])
    assert [r[0] for r in rows] == ["0"] * 4 + ["1"] * 4
