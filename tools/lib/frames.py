"""Building frames byte by byte, deterministically.

    link     : ether() (optionally VLAN-tagged), sll(), sll2(), null_header()
    network  : ipv4(), ipv6()
    tcp      : tcp() with options (opt_mss, opt_sackperm, opt_wscale, opt_nop,
               opt_ts, ts_opts, syn_opts), payload, overridable data offset
    icmp     : icmp4_error(), icmp6_error() quoting an IP packet
    checksum : csum(), pseudo4(), pseudo6()

Addresses are strings ("10.0.0.1", "2001:db8::1") or packed bytes; MAC
addresses are "02:00:00:00:00:0a" strings or 6 bytes.
"""
import ipaddress
import struct

FIN, SYN, RST, PSH, ACK, URG, ECE, CWR = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80
_FLAG_LETTERS = {"F": FIN, "S": SYN, "R": RST, "P": PSH, "A": ACK, "U": URG,
                 "E": ECE, "C": CWR}

ETH_IPV4, ETH_IPV6, ETH_VLAN, ETH_QINQ = 0x0800, 0x86DD, 0x8100, 0x88A8

MAC_A = "02:00:00:00:00:0a"     # default source
MAC_B = "02:00:00:00:00:0b"     # default destination


def flags_of(s):
    """'SA' -> SYN|ACK, 'PA' -> PSH|ACK, '' -> 0."""
    v = 0
    for ch in s:
        v |= _FLAG_LETTERS[ch]
    return v


# ----------------------------------------------------------------------------
# checksums

def csum(data):
    """The Internet checksum (RFC 1071) of data."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ip_bytes(a):
    """An IP address as packed bytes (4 or 16)."""
    return a if isinstance(a, bytes) else ipaddress.ip_address(a).packed


def pseudo4(src, dst, proto, length):
    return ip_bytes(src) + ip_bytes(dst) + struct.pack("!BBH", 0, proto, length)


def pseudo6(src, dst, nh, length):
    return ip_bytes(src) + ip_bytes(dst) + struct.pack("!I3xB", length, nh)


# ----------------------------------------------------------------------------
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


def syn_opts(val, ecr, mss=1460):
    """Linux-like SYN options (20 bytes): MSS SACK_PERM TS NOP WS(7); ten
    NOPs instead of TS when val is None."""
    o = opt_mss(mss) + opt_sackperm()
    o += opt_ts(val, ecr) if val is not None else opt_nop() * 10
    return o + opt_nop() + opt_wscale()


def tcp(src, dst, sport, dport, seq, ack, flags, win, opts=b"", payload=b"",
        doff=None, v6=False, checksum=True):
    """A TCP segment (header + payload), with a correct checksum unless
    checksum=False (then the field is 0).

    flags: bits or letters ('PA').  Options are padded with EOL to 32 bits.
    doff overrides the data offset field (in 32-bit words) without changing
    the bytes that follow (for bogus headers)."""
    if len(opts) % 4:
        opts += b"\0" * (4 - len(opts) % 4)
    hlen = 20 + len(opts)
    off = doff if doff is not None else hlen // 4
    if isinstance(flags, str):
        flags = flags_of(flags)
    seg = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                      (off & 0xF) << 4, flags, win, 0, 0) + opts + payload
    if not checksum:
        return seg
    ph = pseudo6(src, dst, 6, len(seg)) if v6 else pseudo4(src, dst, 6, len(seg))
    return seg[:16] + struct.pack("!H", csum(ph + seg)) + seg[18:]


# ----------------------------------------------------------------------------
# IP

def ipv4(src, dst, proto, payload, ident=0, ttl=64, tot_len=None):
    """IPv4 header (20 bytes, DF, with checksum) + payload.  tot_len
    overrides the total length field (the payload bytes are still all
    appended): for bogus lengths, or payload left out of a cut capture."""
    tl = tot_len if tot_len is not None else 20 + len(payload)
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, tl, ident & 0xFFFF, 0x4000, ttl, proto, 0,
                      ip_bytes(src), ip_bytes(dst))
    return hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:] + payload


def ipv6(src, dst, nh, payload, hlim=64, payload_len=None):
    """IPv6 header (40 bytes) + payload.  payload_len overrides the payload
    length field, as tot_len does for ipv4()."""
    plen = payload_len if payload_len is not None else len(payload)
    return struct.pack("!IHBB16s16s", 0x60000000, plen, nh, hlim,
                       ip_bytes(src), ip_bytes(dst)) + payload


# ----------------------------------------------------------------------------
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


# ----------------------------------------------------------------------------
# link layers

def mac(m):
    """A MAC address as 6 bytes."""
    return m if isinstance(m, bytes) else bytes(int(x, 16) for x in m.split(":"))


def ether(payload, ethertype, src=MAC_A, dst=MAC_B, vlan=None, tags=()):
    """Ethernet II.  vlan=VID adds one 802.1Q tag; tags=[(TPID, TCI), ...]
    any number of them, outermost first."""
    h = mac(dst) + mac(src)
    if vlan is not None:
        tags = list(tags) + [(ETH_VLAN, vlan & 0x0FFF)]
    for tpid, tci in tags:
        h += struct.pack("!HH", tpid, tci)
    return h + struct.pack("!H", ethertype) + payload


def sll(payload, proto, src=MAC_A, pkttype=0):
    """Linux cooked capture v1 header (16 bytes, DLT_LINUX_SLL)."""
    return struct.pack("!HHH8sH", pkttype, 1, 6, mac(src) + b"\0\0", proto) + payload


def sll2(payload, proto, src=MAC_A, ifindex=2, pkttype=0):
    """Linux cooked capture v2 header (20 bytes, DLT_LINUX_SLL2)."""
    return struct.pack("!HHIHBB8s", proto, 0, ifindex, 1, pkttype, 6,
                       mac(src) + b"\0\0") + payload


def null_header(v6, big_endian=False):
    """DLT_NULL (host byte order, here little-endian) or DLT_LOOP (network
    byte order) header: the BSD address family, AF_INET6 = 24."""
    return struct.pack(">I" if big_endian else "<I", 24 if v6 else 2)
