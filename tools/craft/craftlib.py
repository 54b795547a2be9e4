"""The conversation layer of the crafted connmon test captures.

Python 3 standard library only, deterministic.  Frames are built by
tools/lib/frames.py and written by tools/lib/pcap.py (classic pcap with the
nanosecond magic, so capture times are exact); this file adds what is
particular to the crafted captures:

  Capture : the records of one capture, times relative to EPOCH
  Conn    : a two-party TCP conversation helper; a() sends from the
            client ("A") side, b() from the server ("B") side
  ms(), payload_bytes()
"""
import ipaddress
import os
import sys
from decimal import Decimal

_TOOLS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
if _TOOLS not in sys.path:
    sys.path.insert(0, _TOOLS)

from lib import pcap  # noqa: E402
from lib.frames import (MAC_A, MAC_B, SYN, ether, flags_of, ipv4, ipv6, sll,  # noqa: E402
                        syn_opts, tcp, ts_opts)
from lib.pcap import DLT_EN10MB  # noqa: E402

EPOCH = 1_700_000_000  # capture times are EPOCH + t
NS = 1_000_000_000

MAC_R = "02:00:00:00:00:fe"  # a router


def ms(x):
    """Milliseconds (int, str or Decimal) -> integer nanoseconds, exactly."""
    return int(Decimal(str(x)) * 1_000_000)


def payload_bytes(n):
    pat = b"connmon-crafted-"
    return (pat * (n // len(pat) + 1))[:n]


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
        pcap.write_records(path, self.linktype,
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
