"""Tiny packet-building layer for the crafted connmon test captures.

Python 3 standard library only, deterministic.  Writes classic pcap files
with the nanosecond magic (0xa1b23c4d) so capture times are exact.

Layers:
  framing : ether(), vlan (ether(..., vlan=VID)), sll() (DLT_LINUX_SLL, 113)
  network : ipv4(), ipv6()
  tcp     : tcp() with options (opt_mss, opt_sackperm, opt_wscale, opt_nop,
            opt_ts), payload, overridable data offset
  icmp    : icmp4_error(), icmp6_error() quoting an IP packet
  Conn    : a two-party TCP conversation helper; a() sends from the
            client ("A") side, b() from the server ("B") side.
"""
import ipaddress
import struct
from decimal import Decimal

DLT_EN10MB = 1
DLT_LINUX_SLL = 113

EPOCH = 1_700_000_000  # capture times are EPOCH + t
NS = 1_000_000_000

FIN, SYN, RST, PSH, ACK, URG, ECE, CWR = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80
_FLAG_LETTERS = {"F": FIN, "S": SYN, "R": RST, "P": PSH, "A": ACK, "U": URG,
                 "E": ECE, "C": CWR}


def flags_of(s):
    """'SA' -> SYN|ACK, 'PA' -> PSH|ACK, '' -> 0."""
    v = 0
    for ch in s:
        v |= _FLAG_LETTERS[ch]
    return v


def ms(x):
    """Milliseconds (int, str or Decimal) -> integer nanoseconds, exactly."""
    return int(Decimal(str(x)) * 1_000_000)


# --------------------------------------------------------------------------
# checksums


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def _addr(a):
    return ipaddress.ip_address(a).packed


def pseudo4(src, dst, proto, length):
    return _addr(src) + _addr(dst) + struct.pack("!BBH", 0, proto, length)


def pseudo6(src, dst, nh, length):
    return _addr(src) + _addr(dst) + struct.pack("!I3xB", length, nh)


# --------------------------------------------------------------------------
# TCP


def opt_nop():
    return b"\x01"


def opt_mss(v=1460):
    return struct.pack("!BBH", 2, 4, v)


def opt_wscale(v=7):
    return struct.pack("!BBB", 3, 3, v)


def opt_sackperm():
    return b"\x04\x02"


def opt_ts(val, ecr):
    return struct.pack("!BBII", 8, 10, val & 0xFFFFFFFF, ecr & 0xFFFFFFFF)


def ts_opts(val, ecr):
    """The usual 12-byte block: NOP NOP TS."""
    return opt_nop() + opt_nop() + opt_ts(val, ecr)


def syn_opts(val, ecr):
    """Linux-like SYN options (20 bytes): MSS SACK_PERM TS NOP WS."""
    o = opt_mss() + opt_sackperm()
    if val is not None:
        o += opt_ts(val, ecr)
    else:
        o += opt_nop() * 10
    return o + opt_nop() + opt_wscale()


def payload_bytes(n):
    pat = b"connmon-crafted-"
    return (pat * (n // len(pat) + 1))[:n]


def tcp(src, dst, sport, dport, seq, ack, flags, win, opts=b"", payload=b"",
        doff=None, v6=False):
    """A TCP segment (header + payload) with a correct checksum.

    doff overrides the data offset field (in 32-bit words) without changing
    the bytes that follow (for bogus headers)."""
    if len(opts) % 4:
        opts += b"\0" * (4 - len(opts) % 4)  # EOL padding
    hlen = 20 + len(opts)
    off = doff if doff is not None else hlen // 4
    if isinstance(flags, str):
        flags = flags_of(flags)
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                      (off & 0xF) << 4, flags, win, 0, 0) + opts
    seg = hdr + payload
    ph = pseudo6(src, dst, 6, len(seg)) if v6 else pseudo4(src, dst, 6, len(seg))
    c = csum(ph + seg)
    return seg[:16] + struct.pack("!H", c) + seg[18:]


# --------------------------------------------------------------------------
# IP


def ipv4(src, dst, proto, payload, ident=0, ttl=64, tot_len=None):
    """IPv4 header (20 bytes, DF) + payload.  tot_len overrides the total
    length field (the payload bytes are still all appended)."""
    tl = tot_len if tot_len is not None else 20 + len(payload)
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, tl, ident, 0x4000, ttl, proto, 0,
                      _addr(src), _addr(dst))
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + payload


def ipv6(src, dst, nh, payload, hlim=64):
    return struct.pack("!IHBB16s16s", 0x60000000, len(payload), nh, hlim,
                       _addr(src), _addr(dst)) + payload


# --------------------------------------------------------------------------
# ICMP errors


def icmp4_error(src, dst, icmp_type, code, quoted, rest=0, ident=0):
    """ICMP error (e.g. 3/4 fragmentation needed, rest = MTU) quoting the
    IP packet bytes `quoted`; returns the enclosing IPv4 packet."""
    body = struct.pack("!BBHI", icmp_type, code, 0, rest) + quoted
    body = body[:2] + struct.pack("!H", csum(body)) + body[4:]
    return ipv4(src, dst, 1, body, ident=ident)


def icmp6_error(src, dst, icmp_type, code, quoted, rest=0):
    """ICMPv6 error (1 = destination unreachable, 2 = packet too big with
    rest = MTU) quoting `quoted`; returns the enclosing IPv6 packet."""
    body = struct.pack("!BBHI", icmp_type, code, 0, rest) + quoted
    c = csum(pseudo6(src, dst, 58, len(body)) + body)
    body = body[:2] + struct.pack("!H", c) + body[4:]
    return ipv6(src, dst, 58, body)


# --------------------------------------------------------------------------
# link framing


def mac(s):
    return bytes(int(x, 16) for x in s.split(":"))


MAC_A = "02:00:00:00:00:0a"
MAC_B = "02:00:00:00:00:0b"
MAC_R = "02:00:00:00:00:fe"


def ether(payload, ethertype, src=MAC_A, dst=MAC_B, vlan=None):
    h = mac(dst) + mac(src)
    if vlan is not None:
        h += struct.pack("!HH", 0x8100, vlan & 0x0FFF)
    return h + struct.pack("!H", ethertype) + payload


def sll(payload, proto, src=MAC_A, pkttype=0):
    """Linux cooked capture v1 header (16 bytes)."""
    return struct.pack("!HHH8sH", pkttype, 1, 6, mac(src) + b"\0\0", proto) + payload


# --------------------------------------------------------------------------
# pcap file


class Capture:
    def __init__(self, linktype=DLT_EN10MB, snaplen=65535):
        self.linktype = linktype
        self.snaplen = snaplen
        self.records = []  # (t_ns, bytes, orig_len)

    def add(self, t_ns, frame, caplen=None):
        """Adds a frame at EPOCH + t_ns; caplen cuts the captured bytes."""
        orig = len(frame)
        if caplen is not None:
            frame = frame[:caplen]
        self.records.append((t_ns, frame, orig))
        return len(self.records)  # the frame number

    def write(self, path):
        import pcaplib  # the one pcap writer (pcaplib imports nothing from here)
        pcaplib.write_records(path, self.linktype,
                              [(EPOCH * NS + t, frame, orig) for t, frame, orig in self.records],
                              snaplen=self.snaplen)


# --------------------------------------------------------------------------
# conversation helper


class Conn:
    """One TCP conversation between A (client) and B (server).

    link: 'eth' (Ethernet II), 'vlan' (802.1Q, VID 100), 'sll' (the
    capture must then be DLT_LINUX_SLL), 'ipip' (the IP packet inside an
    outer IPv4 header 192.0.2.1 <-> 192.0.2.2, protocol 4 or 41, on
    Ethernet).  IPv6 is chosen by the addresses.
    """

    def __init__(self, cap, a_ip, a_port, b_ip, b_port, link="eth"):
        self.cap = cap
        self.ip = {"a": a_ip, "b": b_ip}
        self.port = {"a": a_port, "b": b_port}
        self.v6 = ipaddress.ip_address(a_ip).version == 6
        self.link = link
        self.ident = {"a": 0x100, "b": 0x200}

    def ip_packet(self, side, flags, seq, ack, data=0, win=65535, ts=None, opts=None,
                  doff=None, ip_len=None):
        """The IP packet one side would send (not added to the capture).

        ts=(TSval, TSecr) adds NOP NOP TS (or the Linux SYN options on a
        SYN); opts gives the raw option bytes instead."""
        other = "b" if side == "a" else "a"
        src, dst = self.ip[side], self.ip[other]
        if isinstance(flags, str):
            flags = flags_of(flags)
        if opts is None:
            if flags & SYN:
                opts = syn_opts(ts[0], ts[1]) if ts else syn_opts(None, None)
            elif ts is not None:
                opts = ts_opts(*ts)
            else:
                opts = b""
        pl = payload_bytes(data) if isinstance(data, int) else data
        seg = tcp(src, dst, self.port[side], self.port[other], seq, ack, flags, win,
                  opts, pl, doff=doff, v6=self.v6)
        if self.v6:
            return ipv6(src, dst, 6, seg)
        self.ident[side] += 1
        return ipv4(src, dst, 6, seg, ident=self.ident[side], tot_len=ip_len)

    def frame(self, side, ippkt):
        """Wraps an IP packet in this conversation's link framing."""
        et = 0x86DD if self.v6 else 0x0800
        srcmac = MAC_A if side == "a" else MAC_B
        dstmac = MAC_B if side == "a" else MAC_A
        if self.link == "eth":
            return ether(ippkt, et, srcmac, dstmac)
        if self.link == "vlan":
            return ether(ippkt, et, srcmac, dstmac, vlan=100)
        if self.link == "sll":
            return sll(ippkt, et, srcmac, pkttype=0 if side == "b" else 4)
        if self.link == "ipip":
            o_src, o_dst = ("192.0.2.1", "192.0.2.2") if side == "a" else ("192.0.2.2", "192.0.2.1")
            outer = ipv4(o_src, o_dst, 41 if self.v6 else 4, ippkt, ident=0x4000 + len(self.cap.records))
            return ether(outer, 0x0800, srcmac, dstmac)
        raise ValueError(self.link)

    def send(self, side, t_ns, flags, seq, ack, caplen_tcp=None, **kw):
        """Adds a packet at t_ns; returns its frame number.

        caplen_tcp cuts the capture that many bytes into the TCP header."""
        pkt = self.ip_packet(side, flags, seq, ack, **kw)
        fr = self.frame(side, pkt)
        caplen = None
        if caplen_tcp is not None:
            caplen = len(fr) - len(pkt) + (40 if self.v6 else 20) + caplen_tcp
            assert self.link != "ipip"
        return self.cap.add(t_ns, fr, caplen)

    def a(self, t_ns, flags, seq, ack, **kw):
        return self.send("a", t_ns, flags, seq, ack, **kw)

    def b(self, t_ns, flags, seq, ack, **kw):
        return self.send("b", t_ns, flags, seq, ack, **kw)
