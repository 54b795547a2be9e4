"""Deterministic synthetic capture of parallel bulk TCP transfers.

Used by bench.py; also runnable on its own:

    python3 tools/bench/gencap.py out.pcap [--packets N] [--flows N] [--seed N]

The capture point (CP) sits mid-path between the clients (side A) and the
servers (side B).  Each of `flows` slots runs back-to-back connections; a
connection is a 3-way handshake, a small request from the client, a bulk
download from the server (1448-byte segments over IPv4, 1428 over IPv6,
paced at a per-connection rate), delayed ACKs every 2 segments, FIN/ACK
teardown.  Every segment carries the TCP timestamp option (TSval = the
sending host's millisecond clock, TSecr = the TSval it last received).
A small fraction of data segments is lost, either upstream of the CP (a
hole in the capture) or downstream of it (seen twice); the receiver then
sends a duplicate ACK per out-of-order segment and the sender fast-
retransmits after the third.  Round-trip times are 10-50 ms.  Every fourth
slot is IPv6.

Frames are Ethernet; the classic pcap (microsecond timestamps) is written
with a snaplen of 128 bytes: headers are complete, IP total / payload
length and the record's original length are those of the real frame.
"""
import argparse
import heapq
import os
import random
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from lib import frames, pcap  # noqa: E402
from lib.frames import ACK, FIN, PSH, SYN  # noqa: E402

SNAPLEN = 128
START = 1_700_000_000.0          # capture start, epoch seconds


class Host:
    def __init__(self, mac: bytes, ip: bytes, v6: bool, rng: random.Random):
        self.mac, self.ip, self.v6 = mac, ip, v6
        self.ts_base = rng.randrange(1 << 32)    # TS clock offset
        self.ip_id = rng.randrange(1 << 16)

    def tsval(self, t: float) -> int:
        return (self.ts_base + int(t * 1000)) & 0xFFFFFFFF


def frame(src: Host, dst: Host, sport, dport, seq, ack, flags, win,
          payload_len, tsval, tsecr, syn_opts=False):
    """Returns (captured bytes, original length).  The payload is zeros and
    only its captured part is made; the TCP checksum is left 0."""
    if syn_opts:
        opts = frames.syn_opts(tsval, tsecr, mss=1428 if src.v6 else 1448)
    else:
        opts = frames.ts_opts(tsval, tsecr)
    tcp = frames.tcp(src.ip, dst.ip, sport, dport, seq, ack, flags, win, opts,
                     checksum=False)
    tcp_total = len(tcp) + payload_len
    if src.v6:
        ip = frames.ipv6(src.ip, dst.ip, 6, tcp, payload_len=tcp_total)
        ethertype = frames.ETH_IPV6
    else:
        src.ip_id = (src.ip_id + 1) & 0xFFFF
        ip = frames.ipv4(src.ip, dst.ip, 6, tcp, ident=src.ip_id, tot_len=20 + tcp_total)
        ethertype = frames.ETH_IPV4
    data = frames.ether(ip, ethertype, src.mac, dst.mac)
    orig = len(data) + payload_len
    data += bytes(min(payload_len, max(0, SNAPLEN - len(data))))
    return data[:SNAPLEN], orig


class Connection:
    """One simulated connection; run() returns [(t, bytes, orig_len)] in
    capture order.  Times are CP times: a client packet sent at time x
    passes the CP at x + ha, a server packet at x + hb."""

    def __init__(self, rng, client, server, sport, dport, t0, nbytes, rtt_a, rtt_b,
                 rate_bps, p_up, p_down):
        self.rng = rng
        self.c, self.s = client, server
        self.sport, self.dport = sport, dport
        self.t0, self.nbytes = t0, nbytes
        self.ha, self.hb = rtt_a / 2, rtt_b / 2   # one way CP<->client, CP<->server
        self.mss = 1428 if client.v6 else 1448
        self.gap = self.mss * 8 / rate_bps
        self.p_up, self.p_down = p_up, p_down
        self.win_c = 3000 + rng.randrange(2000)   # scaled by 2^7
        self.win_s = 500 + rng.randrange(200)
        self.out = []
        self.events = []
        self.n = 0
        self.now = t0
        self.ciss = rng.randrange(1 << 32)
        self.siss = rng.randrange(1 << 32)
        self.c_tsecr = 0            # TSecr the client puts in its packets
        self.s_tsecr = 0            # TSecr the server puts in its packets
        self.c_nxt = self.ciss + 1  # client's next sequence number
        # server sender state (absolute sequence numbers, no wrap handling
        # needed: they are masked when written)
        self.s_una = self.s_nxt = self.siss + 1
        self.s_end = self.siss + 1 + nbytes
        self.dup_cnt = 0
        self.recover = None         # NewReno recovery point
        self.retx_done = set()
        self.fin_sent = False
        self.done = False
        # client receiver state
        self.rcv_nxt = self.siss + 1
        self.ooo = {}               # seq -> end of segments held out of order
        self.unacked = 0
        self.ts_recent = 0

    def at(self, t, kind, *args):
        self.n += 1
        heapq.heappush(self.events, (t, self.n, kind, args))

    def emit_c(self, t, flags, plen=0, syn=False):
        """Client packet passing the CP at t; the server gets it hb later."""
        tsval = self.c.tsval(t - self.ha)
        seq = self.ciss if syn else self.c_nxt
        ack = 0 if syn else self.rcv_nxt
        d, o = frame(self.c, self.s, self.sport, self.dport, seq, ack, flags,
                     64240 if syn else self.win_c, plen, tsval, self.c_tsecr, syn)
        self.out.append((t, d, o))
        self.c_nxt = seq + plen + (1 if flags & (SYN | FIN) else 0)
        self.at(t + self.hb, "s_rx", tsval, ack, flags, plen)

    def emit_s(self, t, seq, flags, plen=0, record=True):
        """Server packet passing the CP at t (not captured unless record)."""
        tsval = self.s.tsval(t - self.hb)
        if record:
            d, o = frame(self.s, self.c, self.dport, self.sport, seq,
                         0 if flags == SYN else self.c_nxt, flags,
                         65160 if flags & SYN else self.win_s, plen, tsval,
                         self.s_tsecr, bool(flags & SYN))
            self.out.append((t, d, o))
        return tsval

    def run(self):
        self.emit_c(self.t0, SYN, syn=True)
        rto = 0
        while not self.done:
            while self.events and not self.done:
                t, _n, kind, args = heapq.heappop(self.events)
                self.now = t
                getattr(self, "ev_" + kind)(t, *args)
            if not self.done:       # stalled (should not happen): RTO
                rto += 1
                if rto > 20:
                    break
                self.at(self.now + 0.2, "s_retx", self.s_una)
        self.out.sort(key=lambda p: p[0])
        return self.out

    # -- server side (t: time the packet reaches the server) ------------------
    def ev_s_rx(self, t, tsval, ack, flags, plen):
        self.s_tsecr = tsval
        if flags & SYN:
            self.at(t + self.hb, "s_synack")
            return
        if flags & FIN:
            self.emit_s(t + self.hb, self.s_end + 1, ACK)
            self.done = True
            return
        if plen:                    # the request: start sending
            self.at(t + self.hb, "s_send")
            return
        if ack > self.s_una:
            self.s_una = ack
            self.dup_cnt = 0
            if self.recover is not None:
                if ack < self.recover:          # partial ACK: next hole
                    if ack not in self.retx_done:
                        self.retx_done.add(ack)
                        self.at(t + self.hb, "s_retx", ack)
                else:
                    self.recover = None
        elif ack == self.s_una and ack < self.s_nxt:
            self.dup_cnt += 1
            if self.dup_cnt == 3 and ack not in self.retx_done:
                self.retx_done.add(ack)
                self.recover = self.s_nxt
                self.at(t + self.hb, "s_retx", ack)
        if self.s_una >= self.s_end and not self.fin_sent:
            self.fin_sent = True
            self.at(t + self.hb, "s_fin")

    def ev_s_synack(self, t):
        tsval = self.emit_s(t, self.siss, SYN | ACK)
        self.at(t + self.ha, "c_synack", tsval)

    def ev_s_send(self, t):
        seq = self.s_nxt
        plen = min(self.mss, self.s_end - seq)
        self.s_nxt += plen
        last = self.s_nxt >= self.s_end
        r = self.rng.random()
        protect = self.s_end - seq < 12 * self.mss     # no tail losses
        lost_up = not protect and r < self.p_up
        lost_down = not protect and self.p_up <= r < self.p_up + self.p_down
        tsval = self.emit_s(t, seq, ACK | (PSH if last else 0), plen, record=not lost_up)
        if not (lost_up or lost_down):
            self.at(t + self.ha, "c_rx", seq, plen, tsval)
        if not last:
            self.at(t + self.gap * (0.9 + 0.2 * self.rng.random()), "s_send")

    def ev_s_retx(self, t, seq):
        plen = min(self.mss, self.s_end - seq)
        tsval = self.emit_s(t, seq, ACK, plen)
        self.at(t + self.ha, "c_rx", seq, plen, tsval)

    def ev_s_fin(self, t):
        tsval = self.emit_s(t, self.s_end, FIN | ACK)
        self.at(t + self.ha, "c_fin", tsval)

    # -- client side (t: time the packet reaches the client) ------------------
    def ev_c_synack(self, t, tsval):
        self.c_tsecr = tsval
        self.rcv_nxt = self.siss + 1
        self.emit_c(t + self.ha, ACK)
        req = 120 + self.rng.randrange(300)
        self.emit_c(t + self.ha + 0.00005, PSH | ACK, req)

    def ev_c_rx(self, t, seq, plen, tsval):
        end = seq + plen
        if seq == self.rcv_nxt:
            if self.unacked == 0:
                self.ts_recent = tsval    # first segment since the last ACK
            self.rcv_nxt = end
            filled = False
            while self.rcv_nxt in self.ooo:
                self.rcv_nxt = self.ooo.pop(self.rcv_nxt)
                filled = True
            self.unacked += 1
            if filled or self.unacked >= 2 or end == self.s_end:
                self.c_ack(t)
            else:
                self.at(t + 0.04, "c_delack", self.rcv_nxt)
        elif seq > self.rcv_nxt:
            self.ooo[seq] = end
            self.c_ack(t, dup=True)           # duplicate ACK
        else:
            self.c_ack(t, dup=True)           # old data: immediate ACK

    def ev_c_delack(self, t, rcv_nxt):
        if self.unacked and self.rcv_nxt == rcv_nxt:
            self.c_ack(t)

    def c_ack(self, t, dup=False):
        if not dup:
            self.c_tsecr = self.ts_recent
        self.unacked = 0
        self.emit_c(t + self.ha, ACK)

    def ev_c_fin(self, t, tsval):
        self.c_tsecr = tsval
        self.rcv_nxt = self.s_end + 1
        self.emit_c(t + self.ha, ACK)
        self.emit_c(t + self.ha + 0.0003, FIN | ACK)


def generate(path, packets=150_000, flows=24, seed=1):
    """Writes the capture; returns the number of packets written."""
    rng = random.Random(seed)
    per_slot = packets // flows + 1
    streams = []
    for slot in range(flows):
        v6 = slot % 4 == 3
        srng = random.Random(rng.randrange(1 << 30))
        if v6:
            cip = bytes.fromhex("20010db8000a0000000000000000") + struct.pack("!H", slot + 1)
            sip = bytes.fromhex("20010db8000b0000000000000000") + struct.pack("!H", slot + 1)
        else:
            cip = bytes([10, 1, slot // 250, slot % 250 + 1])
            sip = (bytes([192, 0, 2, slot + 1]) if slot < 254
                   else bytes([198, 18, slot // 250, slot % 250 + 1]))
        cmac = bytes([0x02, 0, 0, slot >> 8 & 0xFF, 0xA, slot & 0xFF])
        smac = bytes([0x02, 0, 0, slot >> 8 & 0xFF, 0xB, slot & 0xFF])
        client = Host(cmac, cip, v6, srng)
        server = Host(smac, sip, v6, srng)
        t = START + srng.random() * 0.05
        out = []
        sport = 40000 + (slot % 50) * 500      # one client address per slot
        while len(out) < per_slot:
            rtt = 0.010 + srng.random() * 0.040
            share = 0.2 + 0.6 * srng.random()
            conn = Connection(srng, client, server, sport, 443 if slot % 2 else 80, t,
                              nbytes=min(srng.randrange(1_000_000, 6_000_000),
                                         max(100_000, (per_slot - len(out)) * 1000)),
                              rtt_a=rtt * share, rtt_b=rtt * (1 - share),
                              rate_bps=srng.choice([10e6, 20e6, 40e6]),
                              p_up=0.0003, p_down=0.0003)
            pk = conn.run()
            out.extend(pk)
            t = max(p[0] for p in pk) + 0.001 + srng.random() * 0.05
            sport += 1
        out.sort(key=lambda p: p[0])
        streams.append(out)
    merged = heapq.merge(*streams, key=lambda p: p[0])
    return pcap.write_records(path, pcap.DLT_EN10MB,
                              ((int(round(t * 1e6)) * 1000, data, orig) for t, data, orig in merged),
                              snaplen=SNAPLEN, nanos=False)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--packets", type=int, default=150_000)
    ap.add_argument("--flows", type=int, default=24)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    n = generate(a.out, a.packets, a.flows, a.seed)
    print(f"{a.out}: {n} packets")


if __name__ == "__main__":
    main()
