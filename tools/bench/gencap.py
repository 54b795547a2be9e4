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
import random
import struct

SNAPLEN = 128
LINKTYPE_ETHERNET = 1
START = 1_700_000_000.0          # capture start, epoch seconds

# TCP flags
FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10


def _csum(b: bytes) -> int:
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


class Host:
    def __init__(self, mac: bytes, ip: bytes, v6: bool, rng: random.Random):
        self.mac, self.ip, self.v6 = mac, ip, v6
        self.ts_base = rng.randrange(1 << 32)    # TS clock offset
        self.ip_id = rng.randrange(1 << 16)

    def tsval(self, t: float) -> int:
        return (self.ts_base + int(t * 1000)) & 0xFFFFFFFF


def frame(src: Host, dst: Host, sport, dport, seq, ack, flags, win,
          payload_len, tsval, tsecr, syn_opts=False):
    """Returns (captured bytes, original length)."""
    if syn_opts:   # MSS, SACK permitted, TS, NOP, window scale 7
        mss = 1428 if src.v6 else 1448
        opts = (struct.pack("!BBH", 2, 4, mss) + b"\x04\x02"
                + struct.pack("!BBII", 8, 10, tsval, tsecr) + b"\x01\x03\x03\x07")
    else:          # NOP, NOP, TS
        opts = b"\x01\x01" + struct.pack("!BBII", 8, 10, tsval, tsecr)
    doff = (20 + len(opts)) // 4
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                      doff << 4, flags, win, 0, 0) + opts
    tcp_total = len(tcp) + payload_len
    if src.v6:
        ip = struct.pack("!IHBB", 6 << 28, tcp_total, 6, 64) + src.ip + dst.ip
        ethertype = 0x86DD
    else:
        src.ip_id = (src.ip_id + 1) & 0xFFFF
        hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + tcp_total, src.ip_id, 0x4000,
                          64, 6, 0, src.ip, dst.ip)
        ip = hdr[:10] + struct.pack("!H", _csum(hdr)) + hdr[12:]
        ethertype = 0x0800
    eth = dst.mac + src.mac + struct.pack("!H", ethertype)
    data = eth + ip + tcp
    orig = len(data) + payload_len
    data += bytes(min(payload_len, max(0, SNAPLEN - len(data))))
    return data[:SNAPLEN], orig


class Connection:
    """One simulated connection; run() returns [(t, bytes, orig_len)]."""

    def __init__(self, rng, client, server, sport, dport, t0, nbytes, rtt_a, rtt_b,
                 rate_bps, p_up, p_down):
        self.rng = rng
        self.c, self.s = client, server
        self.sport, self.dport = sport, dport
        self.t0, self.nbytes = t0, nbytes
        self.ha, self.hb = rtt_a / 2, rtt_b / 2   # one-way CP<->client, CP<->server
        self.mss = 1428 if client.v6 else 1448
        self.gap = self.mss * 8 / rate_bps
        self.p_up, self.p_down = p_up, p_down
        self.out = []
        self.events = []
        self.n = 0
        self.win_c = 3000 + rng.randrange(2000)   # scaled by 2^7
        self.win_s = 500 + rng.randrange(200)

    # -- helpers -------------------------------------------------------------
    def at(self, t, kind, *args):
        self.n += 1
        heapq.heappush(self.events, (t, self.n, kind, args))

    def emit_c(self, t, seq, ack, flags, plen=0, syn=False):
        """Client packet seen at the CP at time t (sent at t - ha)."""
        tsval = self.c.tsval(t - self.ha)
        self.c_last_tsval = tsval
        d, o = frame(self.c, self.s, self.sport, self.dport, seq, ack, flags,
                     self.win_c if not syn else 64240, plen, tsval, self.c_tsecr, syn)
        self.out.append((t, d, o))
        self.at(t + self.hb, "s_rx", tsval, ack, flags, plen)

    def emit_s(self, t, seq, ack, flags, plen=0, syn=False, record=True):
        """Server packet passing the CP at time t (sent at t - hb)."""
        tsval = self.s.tsval(t - self.hb)
        if record:
            d, o = frame(self.s, self.c, self.dport, self.sport, seq, ack, flags,
                         self.win_s if not syn else 65160, plen, tsval, self.s_tsecr, syn)
            self.out.append((t, d, o))
        return tsval

    # -- the simulation ------------------------------------------------------
    def run(self):
        rng = self.rng
        t = self.t0
        self.ciss = rng.randrange(1 << 32)
        self.siss = rng.randrange(1 << 32)
        self.c_tsecr = 0
        self.s_tsecr = 0
        # handshake + request
        self.emit_c(t, self.ciss, 0, SYN, syn=True)
        self.run_events(until_kind="synack")
        req = 120 + rng.randrange(300)
        self.c_nxt = self.ciss + 1 + req
        # server data starts when the request has reached the server
        self.data_start = self.t_req + self.hb + self.hb + 0.0002
        self.s_una = self.siss + 1
        self.s_nxt_new = self.siss + 1
        self.s_end = self.siss + 1 + self.nbytes
        self.dup_cnt = 0
        self.retx_done = set()
        self.c_rcv_nxt = self.siss + 1
        self.c_ooo = {}          # seq -> end of out-of-order segments at the client
        self.c_unacked = 0
        self.c_ts_recent_pending = None
        self.fin_sent = False
        self.fin_seq = None
        self.done = False
        self.at(self.data_start, "s_send")
        self.run_events()
        return self.out

    def run_events(self, until_kind=None):
        while self.events:
            t, _n, kind, args = heapq.heappop(self.events)
            getattr(self, "ev_" + kind)(t, *args)
            if until_kind and kind == until_kind:
                return

    # server receives a client packet (at server time t)
    def ev_s_rx(self, t, tsval, ack, flags, plen):
        self.s_tsecr = tsval
        if flags & SYN:
            # SYN-ACK passes the CP hb later
            self.at(t + self.hb, "synack")
            return
        if not getattr(self, "established", False):
            return
        if flags & FIN:
            # last ACK of the server
            self.emit_s(t + self.hb, self.fin_seq + 1, self.c_fin_seq + 1, ACK)
            self.done = True
            return
        if ack > self.s_una:
            self.s_una = ack
            self.dup_cnt = 0
        elif ack == self.s_una and plen == 0 and ack < self.s_nxt_new:
            self.dup_cnt += 1
            if self.dup_cnt == 3 and ack not in self.retx_done:
                self.retx_done.add(ack)
                self.at(t + self.hb, "s_retx", ack)
        if (self.s_una >= self.s_end and not self.fin_sent
                and self.s_nxt_new >= self.s_end):
            self.fin_sent = True
            self.fin_seq = self.s_end
            self.at(t + self.hb, "s_fin")

    def ev_synack(self, t):
        self.emit_s(t, self.siss, self.ciss + 1, SYN | ACK, syn=True)
        self.c_tsecr = self.s.tsval(t - self.hb)
        # client ACK, then the request right behind it
        t2 = t + 2 * self.ha
        self.emit_c(t2, self.ciss + 1, self.siss + 1, ACK)
        self.established = True
        self.t_req = t2 + 0.00005
        self.req_len = self.c_nxt_req = None

    def ev_s_send(self, t):
        if self.s_nxt_new == self.siss + 1 and not getattr(self, "req_sent", False):
            pass
        seq = self.s_nxt_new
        plen = min(self.mss, self.s_end - seq)
        if plen <= 0:
            return
        self.s_nxt_new += plen
        near_end = self.s_end - seq < 12 * self.mss
        r = self.rng.random()
        lost_up = not near_end and r < self.p_up
        lost_down = not near_end and self.p_up <= r < self.p_up + self.p_down
        tsval = self.emit_s(t, seq, self.c_nxt, ACK | (PSH if seq + plen == self.s_end else 0),
                            plen, record=not lost_up)
        if not (lost_up or lost_down):
            self.at(t + self.ha, "c_rx", seq, plen, tsval)
        if self.s_nxt_new < self.s_end:
            jitter = self.gap * (0.9 + 0.2 * self.rng.random())
            self.at(t + jitter, "s_send")

    def ev_s_retx(self, t, seq):
        plen = min(self.mss, self.s_end - seq)
        tsval = self.emit_s(t, seq, self.c_nxt, ACK, plen)
        self.at(t + self.ha, "c_rx", seq, plen, tsval)

    def ev_s_fin(self, t):
        tsval = self.emit_s(t, self.fin_seq, self.c_nxt, FIN | ACK)
        self.at(t + self.ha, "c_fin", tsval)

    def ev_c_fin(self, t, tsval):
        self.c_tsecr = tsval
        tcp_t = t + self.ha
        self.c_fin_seq = self.c_nxt
        self.emit_c(tcp_t, self.c_nxt, self.fin_seq + 1, ACK)
        self.emit_c(tcp_t + 0.0003, self.c_nxt, self.fin_seq + 1, FIN | ACK)

    # client receives a data segment (at client time t)
    def ev_c_rx(self, t, seq, plen, tsval):
        if self.t_req is not None:
            pass
        end = seq + plen
        if seq == self.c_rcv_nxt:
            if self.c_unacked == 0:
                self.c_ts_recent_pending = tsval
            self.c_rcv_nxt = end
            filled = False
            while self.c_rcv_nxt in self.c_ooo:
                self.c_rcv_nxt = self.c_ooo.pop(self.c_rcv_nxt)
                filled = True
            self.c_unacked += 1
            if filled or self.c_unacked >= 2 or end == self.s_end:
                self.c_tsecr = self.c_ts_recent_pending
                self.c_ack(t)
            else:
                self.at(t + 0.04, "c_delack", self.c_rcv_nxt)
        elif seq > self.c_rcv_nxt:
            self.c_ooo[seq] = end
            self.c_ack(t)                 # duplicate ACK, echoes ts_recent
        else:
            self.c_ack(t)                 # old data: immediate ACK

    def ev_c_delack(self, t, rcv_nxt):
        if self.c_unacked and self.c_rcv_nxt == rcv_nxt:
            self.c_tsecr = self.c_ts_recent_pending
            self.c_ack(t)

    def c_ack(self, t):
        self.c_unacked = 0
        self.emit_c(t + self.ha, self.c_nxt, self.c_rcv_nxt, ACK)


class Request:
    pass


def _fix_request(conn: Connection):
    """Inserts the client's request segment (sent right after its ACK of the
    SYN-ACK) into the output: done after run() so that the event logic stays
    simple.  The request's TSecr/ACK equal those of the handshake ACK."""


def generate(path, packets=150_000, flows=24, seed=1):
    """Writes the capture; returns the number of packets written."""
    rng = random.Random(seed)
    per_slot = packets // flows + 1
    streams = []
    total = 0
    for slot in range(flows):
        v6 = slot % 4 == 3
        srng = random.Random(rng.randrange(1 << 30))
        if v6:
            cip = bytes.fromhex("20010db8000a0000000000000000") + struct.pack("!H", slot + 1)
            sip = bytes.fromhex("20010db8000b0000000000000000") + struct.pack("!H", slot + 1)
        else:
            cip = bytes([10, 1, slot // 250, slot % 250 + 1])
            sip = bytes([192, 0, 2, slot + 1])
        cmac = bytes([0x02, 0, 0, 0, 0xA, slot])
        smac = bytes([0x02, 0, 0, 0, 0xB, slot])
        client = Host(cmac, cip, v6, srng)
        server = Host(smac, sip, v6, srng)
        t = START + srng.random() * 0.05
        out = []
        sport = 40000 + slot * 500
        while len(out) < per_slot:
            rtt = 0.010 + srng.random() * 0.040
            share = 0.2 + 0.6 * srng.random()
            conn = Connection(srng, client, server, sport, 443 if slot % 2 else 80, t,
                              nbytes=srng.randrange(1_000_000, 6_000_000),
                              rtt_a=rtt * share, rtt_b=rtt * (1 - share),
                              rate_bps=srng.choice([20e6, 40e6, 80e6]),
                              p_up=0.0008, p_down=0.0008)
            pk = conn.run()
            pk = _with_request(conn, pk)
            out.extend(pk)
            t = max(p[0] for p in pk) + 0.001 + srng.random() * 0.05
            sport += 1
        out.sort(key=lambda p: p[0])
        streams.append(out)
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, SNAPLEN, LINKTYPE_ETHERNET))
        for t, data, orig in heapq.merge(*streams, key=lambda p: p[0]):
            usec = int(round(t * 1e6))
            f.write(struct.pack("<IIII", usec // 1_000_000, usec % 1_000_000, len(data), orig))
            f.write(data)
            total += 1
    return total


def _with_request(conn: Connection, pk):
    """Adds the client's request segment 50 us after its handshake ACK."""
    # the handshake ACK is the third packet (SYN, SYN-ACK, ACK)
    t_ack = pk[2][0]
    tsval = conn.c.tsval(t_ack - conn.ha)
    d, o = frame(conn.c, conn.s, conn.sport, conn.dport, conn.ciss + 1, conn.siss + 1,
                 PSH | ACK, conn.win_c, conn.c_nxt - conn.ciss - 1, tsval,
                 conn.s.tsval(pk[1][0] - conn.hb))
    pk = list(pk)
    pk.append((t_ack + 0.00005, d, o))
    pk.sort(key=lambda p: p[0])
    return pk


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
