"""Expert info on the crafted captures, frame lists derived by hand from
SPEC.md (section "Expert info"):
  hole   : seqgap > 0 and no RST
  behind : not a keepalive, and seqgap < 0 with L > 0 (except payload > 1 at
           seq = high_end - 1), or payload > 0 already acknowledged by the
           reverse flow (seq + payload <= its prev_ack, prev_ack != 0)
  dupack : dupack present
"""
import pytest

EXPECTED = {
    # pcap: (hole, behind, dupack)
    "handshake_basic.pcap": ([], [], []),
    "pure_ack_modes.pcap": ([], [], []),
    # 10, 12: retransmissions (seqgap -200 / -100 with data)
    "ts_rules.pcap": ([], [10, 12], []),
    # 17: hole of 100; 14, 18: below high_end; 21: 1801+100 <= B's ack 1901
    "seq_rules.pcap": ([17], [14, 18, 21], []),
    "max_age.pcap": ([], [], []),
    "max_age_streams.pcap": ([], [], []),
    # 10: seqgap 2^31-1; 7: retransmission across the wrap (9 and 11 have
    # seqgap < 0 but L = 0); 8: duplicate ACK
    "wraparound.pcap": ([10], [7], [8]),
    "port_reuse.pcap": ([], [], []),
    # 2, 6: SYN retransmissions: seqgap -1, L = 1, payload 0
    "syn_retransmit.pcap": ([], [2, 6], []),
    # 13: fast retransmission; 24 is a keepalive (and L = 0); 18/19 probes
    # start at high_end
    "dupacks.pcap": ([], [13], [10, 11, 12, 15, 21, 23, 28, 30]),
    "icmp_error.pcap": ([], [], [8, 15]),
    "encaps.pcap": ([5], [8], [7]),
    "vlan.pcap": ([5], [8], [7]),
    "sll.pcap": ([5], [8], [7]),
    "ipv6.pcap": ([5], [8], [7]),
    "ipip.pcap": ([5], [8], [7]),
    "sit.pcap": ([5], [8], [7]),
    "malformed.pcap": ([], [], []),
    "tcp_cut.pcap": ([], [], []),
    "time_backwards.pcap": ([], [], [6, 10]),
    "ts_more.pcap": ([], [12, 15, 19], [2, 21, 22, 23]),
    # 10: the probe byte did not advance high_end -> +1; 5 is a keepalive;
    # 12 has payload 50 at high_end - 1 (the exception)
    "probes.pcap": ([10], [], []),
}


def frames(tshark, pcap, flt):
    return [int(r[0]) for r in tshark.fields(pcap, ["frame.number"], ["-Y", flt])]


@pytest.mark.parametrize("pcap", sorted(EXPECTED))
def test_expert(tshark, pcap):
    hole, behind, dup = EXPECTED[pcap]
    p = "crafted/" + pcap
    assert frames(tshark, p, "connmon.expert.hole") == hole
    assert frames(tshark, p, "connmon.expert.behind") == behind
    assert frames(tshark, p, "connmon.expert.dupack") == dup


def test_expert_covers_all_crafted():
    from test_crafted_common import ROOT
    names = {p.name for p in (ROOT / "pcaps" / "crafted").glob("*.pcap")}
    assert names == set(EXPECTED)
