"""Deterministic captures for the scale benchmark (scale.py), stdlib only.

    python3 tools/bench/scalecap.py KIND out.pcap [--connections N] [--packets N]

KIND is one of:

  handshakes  N connections (default 1,000,000), each a 3-way handshake
              SYN / SYN-ACK / ACK with the TCP timestamp option (3N packets).
              Connection i starts 20 us after connection i-1; its SYN-ACK
              passes the capture point 0.5 ms after its SYN, its ACK 1 ms
              after it, so about 75 handshakes are open at any time.
  syns        N SYN-only flows (a SYN flood), one SYN with the timestamp
              option every 10 us, each from its own address/port pair.
  bulk        one connection of about N packets (default 2,400,000): a
              handshake, then 1448-byte segments from the server every
              116 us (100 Mbit/s) with a delayed ACK from the client every
              second segment, timestamps on every packet.  The capture
              point is mid-path: 4 ms round trip to the client, 16 ms to
              the server.

Clients are 10.a.b.c (64 source ports each, 40000-40063), the server is
192.0.2.1:443.  Frames are Ethernet/IPv4; records hold the headers only
(snaplen 96) with the original length and IP total length of the full
frame, as gencap.py does.  Classic pcap, microsecond timestamps.

3 million packets in Python: every packet is a template (built once with
lib/frames.py) copied into a large output buffer and patched in place with
struct.pack_into; the IP header checksum is the template's partial sum
plus the words that change.
"""
import argparse
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from lib import frames, pcap  # noqa: E402
from lib.frames import ACK, PSH, SYN  # noqa: E402

SNAPLEN = 96
START_US = 1_700_000_000 * 1_000_000
SERVER = bytes([192, 0, 2, 1])
SERVER_PORT = 443
CLIENT_PORTS = 64
MSS = 1448

# Offsets in an Ethernet/IPv4/TCP frame.
IP = 14
IP_TOTLEN, IP_ID, IP_CSUM, IP_SRC, IP_DST = IP + 2, IP + 4, IP + 10, IP + 12, IP + 16
TCP = IP + 20
TCP_SPORT, TCP_DPORT, TCP_SEQ, TCP_ACK = TCP, TCP + 2, TCP + 4, TCP + 8

REC = struct.Struct("<IIII")     # pcap record header
U32 = struct.Struct("!I")
U16 = struct.Struct("!H")
PAIR = struct.Struct("!II")      # seq+ack, tsval+tsecr
PORTS = struct.Struct("!HH")


def mix(i, salt):
    """A cheap deterministic 32-bit hash (ISS, TS clock offsets)."""
    x = (i * 0x9E3779B1 + salt) & 0xFFFFFFFF
    x ^= x >> 15
    x = (x * 0x85EBCA77) & 0xFFFFFFFF
    return x ^ (x >> 13)


def client_addr(i):
    """(address bytes, port) of connection i's client."""
    host = (i // CLIENT_PORTS) + 1
    return bytes([10, host >> 16 & 0xFF, host >> 8 & 0xFF, host & 0xFF]), 40000 + i % CLIENT_PORTS


class Template:
    """One packet kind: the frame bytes, where its TSval sits, and the IP
    header's checksum sum without the words a packet changes (addresses,
    identification, total length)."""

    def __init__(self, flags, win, syn):
        a, b = bytes(4), bytes(4)
        opts = frames.syn_opts(0, 0, mss=MSS) if syn else frames.ts_opts(0, 0)
        seg = frames.tcp(a, b, 0, 0, 0, 0, flags, win, opts, checksum=False)
        ip = frames.ipv4(a, b, 6, seg, ident=0)
        self.data = frames.ether(ip, frames.ETH_IPV4)
        self.len = len(self.data)
        self.ts = TCP + 20 + opts.index(b"\x08\x0a") + 2
        hdr = bytearray(self.data[IP:IP + 20])
        for off in (2, 4, 10, 12, 14, 16, 18):     # totlen, id, csum, src, dst
            hdr[off:off + 2] = b"\0\0"
        self.base = sum(struct.unpack("!10H", hdr))


def ip_csum(base, src, dst, ident, totlen):
    s = base + (src >> 16) + (src & 0xFFFF) + (dst >> 16) + (dst & 0xFFFF) + ident + totlen
    s = (s & 0xFFFF) + (s >> 16)
    s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


class Writer:
    """Classic pcap (µs) through a large buffer; put() copies a template
    and returns the offset of its frame in the buffer for patching."""

    CHUNK = 8 << 20

    def __init__(self, path):
        self.f = open(path, "wb")
        self.f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, SNAPLEN, pcap.DLT_EN10MB))
        self.buf = bytearray(self.CHUNK + 4096)
        self.pos = 0
        self.count = 0

    def put(self, tmpl, t_us, orig):
        if self.pos > self.CHUNK:
            self.flush()
        p = self.pos
        REC.pack_into(self.buf, p, t_us // 1_000_000, t_us % 1_000_000, tmpl.len, orig)
        p += 16
        self.buf[p:p + tmpl.len] = tmpl.data
        self.pos = p + tmpl.len
        self.count += 1
        return p

    def flush(self):
        self.f.write(memoryview(self.buf)[:self.pos])
        self.pos = 0

    def close(self):
        self.flush()
        self.f.close()
        return self.count


def _patch(buf, p, tmpl, src, dst, sport, dport, seq, ack, tsval, tsecr, ident, payload=0):
    """Addresses, ports, seq/ack, TS option, IP id/length/checksum."""
    totlen = tmpl.len - IP + payload
    ident &= 0xFFFF
    U16.pack_into(buf, p + IP_TOTLEN, totlen)
    U16.pack_into(buf, p + IP_ID, ident)
    buf[p + IP_SRC:p + IP_SRC + 4] = src
    buf[p + IP_DST:p + IP_DST + 4] = dst
    U16.pack_into(buf, p + IP_CSUM, ip_csum(tmpl.base, U32.unpack(src)[0], U32.unpack(dst)[0],
                                            ident, totlen))
    PORTS.pack_into(buf, p + TCP_SPORT, sport, dport)
    PAIR.pack_into(buf, p + TCP_SEQ, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF)
    PAIR.pack_into(buf, p + tmpl.ts, tsval & 0xFFFFFFFF, tsecr & 0xFFFFFFFF)


def handshakes(path, connections=1_000_000):
    """3 packets per connection, interleaved in capture-time order."""
    syn = Template(SYN, 64240, True)
    synack = Template(SYN | ACK, 65160, True)
    ack = Template(ACK, 502, False)
    w = Writer(path)
    gap, d_synack, d_ack = 20, 500, 1000          # microseconds
    lag1, lag2 = d_synack // gap, d_ack // gap    # connections between the steps
    for k in range(connections + lag2):
        base = START_US + k * gap
        for kind, i, t in ((syn, k, base), (synack, k - lag1, base), (ack, k - lag2, base)):
            if not 0 <= i < connections:
                continue
            caddr, cport = client_addr(i)
            ciss, siss = mix(i, 1), mix(i, 2)
            cts, sts = mix(i, 3), mix(i, 4)        # TS clocks at the SYN
            p = w.put(kind, t, kind.len)
            if kind is syn:
                _patch(w.buf, p, syn, caddr, SERVER, cport, SERVER_PORT, ciss, 0, cts, 0, i)
            elif kind is synack:
                _patch(w.buf, p, synack, SERVER, caddr, SERVER_PORT, cport, siss, ciss + 1,
                       sts, cts, i)
            else:
                _patch(w.buf, p, ack, caddr, SERVER, cport, SERVER_PORT, ciss + 1, siss + 1,
                       cts + 1, sts, i + 1)
    return w.close()


def syns(path, connections=1_000_000):
    """One SYN per flow, 10 us apart."""
    syn = Template(SYN, 64240, True)
    w = Writer(path)
    for i in range(connections):
        caddr, cport = client_addr(i)
        p = w.put(syn, START_US + i * 10, syn.len)
        _patch(w.buf, p, syn, caddr, SERVER, cport, SERVER_PORT, mix(i, 1), 0, mix(i, 3), 0, i)
    return w.close()


def bulk(path, packets=2_400_000):
    """One download: handshake, then data and delayed ACKs merged by time."""
    syn = Template(SYN, 64240, True)
    synack = Template(SYN | ACK, 65160, True)
    ack = Template(ACK, 3000, False)
    data = Template(ACK | PSH, 502, False)
    caddr, cport = client_addr(0)
    rtt_a, rtt_b, gap = 4000, 16000, 116          # microseconds
    ciss, siss = mix(7, 1), mix(7, 2)
    cts0, sts0 = mix(7, 3), mix(7, 4)

    def cts(t):     # client's ms clock for a packet passing the CP at t
        return cts0 + (t - rtt_a // 2 - START_US) // 1000

    def sts(t):
        return sts0 + (t - rtt_b // 2 - START_US) // 1000

    w = Writer(path)
    t_syn = START_US + rtt_a // 2
    t_synack = t_syn + rtt_b
    t_ack = t_synack + rtt_a
    p = w.put(syn, t_syn, syn.len)
    _patch(w.buf, p, syn, caddr, SERVER, cport, SERVER_PORT, ciss, 0, cts(t_syn), 0, 1)
    p = w.put(synack, t_synack, synack.len)
    _patch(w.buf, p, synack, SERVER, caddr, SERVER_PORT, cport, siss, ciss + 1, sts(t_synack),
           cts(t_syn), 1)
    p = w.put(ack, t_ack, ack.len)
    _patch(w.buf, p, ack, caddr, SERVER, cport, SERVER_PORT, ciss + 1, siss + 1, cts(t_ack),
           sts(t_synack), 2)

    segments = (packets - 3) * 2 // 3
    t0 = t_ack + rtt_b                            # first data segment at the CP
    k = j = 0                                     # next segment, next ACK
    cid = 3
    last_ack_t, last_ack_ts = t_ack, cts(t_ack)   # the server echoes the latest ACK it got
    acks = segments // 2
    while k < segments or j < acks:
        t_seg = t0 + k * gap
        t_ackj = t0 + (2 * j + 1) * gap + rtt_a
        if k < segments and (j >= acks or t_seg <= t_ackj):
            # server TSecr: latest client ACK that reached the server before
            # this segment left it (passed the CP at or before t - rtt_b)
            jj = ((t_seg - rtt_b - rtt_a - t0) // gap - 1) // 2
            if jj >= 0:
                last_ack_ts = cts(t0 + (2 * jj + 1) * gap + rtt_a)
            p = w.put(data, t_seg, data.len + MSS)
            _patch(w.buf, p, data, SERVER, caddr, SERVER_PORT, cport, siss + 1 + k * MSS,
                   ciss + 1, sts(t_seg), last_ack_ts, k & 0xFFFF, MSS)
            k += 1
        else:
            # the ACK of segments 2j and 2j+1 echoes segment 2j's TSval
            p = w.put(ack, t_ackj, ack.len)
            _patch(w.buf, p, ack, caddr, SERVER, cport, SERVER_PORT, ciss + 1,
                   siss + 1 + (2 * j + 2) * MSS, cts(t_ackj), sts(t0 + 2 * j * gap), cid & 0xFFFF)
            cid += 1
            j += 1
    return w.close()


KINDS = {"handshakes": handshakes, "syns": syns, "bulk": bulk}


def generate(kind, path, n):
    """Writes capture `kind` with size parameter n; returns packets written."""
    return KINDS[kind](path, n)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("kind", choices=sorted(KINDS))
    ap.add_argument("out")
    ap.add_argument("-n", type=int, default=None,
                    help="connections (handshakes, syns; default 1000000) or packets "
                         "(bulk; default 2400000)")
    a = ap.parse_args()
    n = a.n if a.n is not None else (2_400_000 if a.kind == "bulk" else 1_000_000)
    print(f"{a.out}: {generate(a.kind, a.out, n)} packets")


if __name__ == "__main__":
    main()
