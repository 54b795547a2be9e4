"""Reading, writing and re-framing captures.

    records, linktype, nanos = read_pcap(path)
    write_records(path, linktype, records)          # classic pcap, ns magic
    write_records(path, linktype, records, nanos=False)   # µs magic
    write_pcapng(path, linktype, records)           # pcapng, if_tsresol = ns
    reframe(src, dst, variant)                      # same IP packets, other framing

A record is (t_ns, captured_bytes, orig_len) with t_ns in nanoseconds since
the Unix epoch; records may be any iterable (a generator keeps memory flat).

reframe() keeps every packet's time, its captured part and its original
length (both adjusted by the size of the new link header), so connmon must
give identical values on the result.  LINK_VARIANTS are the framings it
writes, all of which both tshark and the connmon command line read;
"ipv6-ext" (not in the list) keeps Ethernet and inserts a Hop-by-Hop and a
Destination Options header in front of TCP in every IPv6 packet.
"""
import struct

from . import frames

DLT_NULL = 0
DLT_EN10MB = 1
DLT_RAW = 101          # LINKTYPE_RAW
DLT_LOOP = 108
DLT_LINUX_SLL = 113
DLT_IPV4 = 228
DLT_IPV6 = 229
DLT_LINUX_SLL2 = 276

LINK_VARIANTS = ["eth", "vlan", "qinq", "sll", "sll2", "raw", "ipfamily", "null", "loop",
                 "pcapng"]

_MAC_SRC = bytes.fromhex("020000000001")
_MAC_DST = bytes.fromhex("020000000002")


# ----------------------------------------------------------------------------
# reading

def read_pcap(path):
    """(records, linktype, nanos) of a classic pcap file (either byte order,
    microsecond or nanosecond magic)."""
    data = open(path, "rb").read()
    magic = struct.unpack("<I", data[:4])[0]
    table = {0xA1B2C3D4: ("<", False), 0xA1B23C4D: ("<", True),
             0xD4C3B2A1: (">", False), 0x4D3CB2A1: (">", True)}
    if magic not in table:
        raise ValueError(f"{path}: not a classic pcap file")
    e, nanos = table[magic]
    linktype = struct.unpack(e + "I", data[20:24])[0] & 0x0FFFFFFF
    recs, off = [], 24
    while off + 16 <= len(data):
        sec, frac, incl, orig = struct.unpack(e + "IIII", data[off:off + 16])
        off += 16
        t_ns = sec * 1_000_000_000 + (frac if nanos else frac * 1000)
        recs.append((t_ns, data[off:off + incl], orig))
        off += incl
    return recs, linktype, nanos


# ----------------------------------------------------------------------------
# writing

def write_records(path, linktype, records, snaplen=262144, nanos=True):
    """Classic little-endian pcap, nanosecond magic (or microsecond with
    nanos=False: times are then truncated to whole µs).  Returns the number
    of records written."""
    magic, unit = (0xA1B23C4D, 1) if nanos else (0xA1B2C3D4, 1000)
    n = 0
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype))
        for t_ns, frame, orig in records:
            sec, frac = divmod(t_ns, 1_000_000_000)
            f.write(struct.pack("<IIII", sec, frac // unit, len(frame), max(orig, len(frame))))
            f.write(frame)
            n += 1
    return n


def _block(btype, body):
    body += b"\0" * (-len(body) % 4)
    n = 12 + len(body)
    return struct.pack("<II", btype, n) + body + struct.pack("<I", n)


def write_pcapng(path, linktype, records, snaplen=262144):
    """pcapng: one section, one interface with if_tsresol 9 (ns)."""
    shb = _block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    opts = struct.pack("<HHB3x", 9, 1, 9) + struct.pack("<HH", 0, 0)
    idb = _block(1, struct.pack("<HHI", linktype, 0, snaplen) + opts)
    with open(path, "wb") as f:
        f.write(shb + idb)
        for t_ns, frame, orig in records:
            body = struct.pack("<IIIII", 0, t_ns >> 32, t_ns & 0xFFFFFFFF, len(frame),
                               max(orig, len(frame))) + frame
            f.write(_block(6, body))


# ----------------------------------------------------------------------------
# re-framing

def _ip_offset(linktype, frame):
    """Offset of the IP header in a frame of the link types we read."""
    if linktype == DLT_EN10MB:
        off = 12
        while struct.unpack("!H", frame[off:off + 2])[0] in (0x8100, 0x88A8, 0x9100):
            off += 4
        return off + 2
    if linktype == DLT_LINUX_SLL:
        return 16
    if linktype == DLT_LINUX_SLL2:
        return 20
    if linktype in (DLT_RAW, 12, 14, DLT_IPV4, DLT_IPV6):
        return 0
    if linktype in (DLT_NULL, DLT_LOOP):
        return 4
    raise ValueError(f"link type {linktype} not handled")


def _link_header(variant, version):
    et = frames.ETH_IPV6 if version == 6 else frames.ETH_IPV4
    if variant == "eth":
        return frames.ether(b"", et, _MAC_SRC, _MAC_DST)
    if variant == "vlan":
        return frames.ether(b"", et, _MAC_SRC, _MAC_DST, vlan=100)
    if variant == "qinq":
        return frames.ether(b"", et, _MAC_SRC, _MAC_DST,
                            tags=[(frames.ETH_QINQ, 200), (frames.ETH_VLAN, 100)])
    if variant == "sll":
        return frames.sll(b"", et, _MAC_SRC)
    if variant == "sll2":
        return frames.sll2(b"", et, _MAC_SRC)
    if variant in ("raw", "ipfamily"):
        return b""
    if variant in ("null", "loop"):
        return frames.null_header(version == 6, big_endian=variant == "loop")
    raise ValueError(variant)


_VARIANT_DLT = {"eth": DLT_EN10MB, "vlan": DLT_EN10MB, "qinq": DLT_EN10MB,
                "sll": DLT_LINUX_SLL, "sll2": DLT_LINUX_SLL2, "raw": DLT_RAW,
                "null": DLT_NULL, "loop": DLT_LOOP, "pcapng": DLT_EN10MB,
                "ipv6-ext": DLT_EN10MB}


def _ipv6_with_ext(ip):
    """Inserts Hop-by-Hop (PadN) and Destination Options (PadN) headers after
    the fixed IPv6 header; returns (new captured IP bytes, added length)."""
    if len(ip) < 40 or ip[0] >> 4 != 6:
        return ip, 0
    nh = ip[6]
    hbh = bytes([60, 0, 1, 4, 0, 0, 0, 0])        # next: Destination Options
    dst = bytes([nh, 0, 1, 4, 0, 0, 0, 0])        # next: the original one
    plen = struct.unpack("!H", ip[4:6])[0] + 16
    hdr = ip[:4] + struct.pack("!HB", plen, 0) + ip[7:40]
    return hdr + hbh + dst + ip[40:], 16


def reframe(src, dst, variant):
    """Writes the IP packets of capture `src` to `dst` framed as `variant`."""
    recs, lt, _ = read_pcap(src)
    out = []
    versions = set()
    for t_ns, frame, orig in recs:
        off = _ip_offset(lt, frame)
        ip = frame[off:]
        wire_ip = orig - off
        version = ip[0] >> 4 if ip else 4
        versions.add(version)
        if variant == "ipv6-ext":
            ip, added = _ipv6_with_ext(ip)
            wire_ip += added
            hdr = _link_header("eth", version)
        else:
            hdr = _link_header("eth" if variant == "pcapng" else variant, version)
        out.append((t_ns, hdr + ip, len(hdr) + wire_ip))
    if variant == "ipfamily":
        if len(versions) != 1:
            raise ValueError(f"{src}: ipfamily needs a single IP version")
        write_records(dst, DLT_IPV6 if versions == {6} else DLT_IPV4, out)
    elif variant == "pcapng":
        write_pcapng(dst, DLT_EN10MB, out)
    else:
        write_records(dst, _VARIANT_DLT[variant], out)
