#!/usr/bin/env python3
"""Seed corpora for the fuzz targets, made from the bundled captures.

    tests/fuzz/make_corpus.py OUTDIR

writes OUTDIR/packet_path/ (stretches of every capture in the frame-sequence
format of fuzz_packet_path.c, and the two reference captures re-framed in
every link type), OUTDIR/tcp_decode/ (the distinct TCP headers of the
captures, with the length their IP header reports, as fuzz_tcp_decode.c
reads them), OUTDIR/parse/ (numbers of seconds and mode names) and
OUTDIR/result_store/ (runs of frames stored and read back).
Deterministic: the same captures give the same files.
"""
import hashlib
import struct
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
from lib import frames  # noqa: E402
from lib import pcap as pcaplib  # noqa: E402

PCAPS = ROOT / "pcaps"

# fuzz_packet_path.c's LINKS[], by pcap link type.
LINK_INDEX = {1: 0, 113: 1, 276: 2, 12: 3, 101: 4, 14: 5, 228: 6, 229: 7, 0: 8, 108: 9}
SNAP = 160           # headers are all the targets read
CHUNK_FRAMES = 48    # frames per seed
CHUNKS_PER_CAPTURE = 6
REFERENCE = ["real/ipv4_delay_loss.pcap", "real/ipv6_bulk.pcap"]
# configuration bytes (fuzz_packet_path.c): defaults; all; none with a 50 ms
# max age; -Q with a 1 s idle limit
CONFIGS = [0x00, 0x01, 0x02 | 4 << 2, 0x80 | 2 << 5]

NS, US, MS, BACK_US = 0, 1, 2, 3
LIMIT = 1 << 30


def time_step(dt_ns):
    """The u32 step field for a time difference."""
    if dt_ns < 0:
        return BACK_US << 30 | min(-dt_ns // 1000, LIMIT - 1)
    if dt_ns < LIMIT:
        return NS << 30 | dt_ns
    if dt_ns // 1000 < LIMIT:
        return US << 30 | dt_ns // 1000
    return MS << 30 | min(dt_ns // 1000000, LIMIT - 1)


def frame_sequence(link_index, config, records):
    out = bytearray([link_index, config, 0])
    prev = None
    for t_ns, data, orig in records:
        data = data[:SNAP]
        out += struct.pack(">HII", len(data), orig, time_step(0 if prev is None else t_ns - prev))
        out += data
        prev = t_ns
    return bytes(out)


def chunks(records):
    """Up to CHUNKS_PER_CAPTURE stretches of CHUNK_FRAMES frames, spread
    over the capture (its start first)."""
    n = len(records)
    if n <= CHUNK_FRAMES:
        return [records]
    starts = sorted({round(i * (n - CHUNK_FRAMES) / (CHUNKS_PER_CAPTURE - 1))
                     for i in range(CHUNKS_PER_CAPTURE)})
    return [records[s:s + CHUNK_FRAMES] for s in starts]


class Writer:
    def __init__(self, outdir):
        self.dir = Path(outdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.count = 0

    def add(self, data):
        (self.dir / hashlib.sha1(data).hexdigest()).write_bytes(data)
        self.count += 1


# ---- packet path -------------------------------------------------------------

def packet_path_seeds(w, captures):
    for rel, (recs, lt) in captures.items():
        if lt not in LINK_INDEX:
            continue
        for i, part in enumerate(chunks(recs)):
            w.add(frame_sequence(LINK_INDEX[lt], CONFIGS[0], part))
            if i == 0 and rel.startswith("real/"):
                for cfg in CONFIGS[1:]:
                    w.add(frame_sequence(LINK_INDEX[lt], cfg, part))
    with tempfile.TemporaryDirectory() as tmp:
        for rel in REFERENCE:
            for variant in pcaplib.LINK_VARIANTS + ["ipv6-ext"]:
                if variant == "pcapng":
                    continue
                dst = Path(tmp) / f"{variant}.pcap"
                try:
                    pcaplib.reframe(PCAPS / rel, dst, variant)
                except ValueError:
                    continue  # ipfamily of a mixed capture
                recs, lt, _ = pcaplib.read_pcap(dst)
                w.add(frame_sequence(LINK_INDEX[lt], CONFIGS[0], recs[:CHUNK_FRAMES]))


# Framings the captures do not have: (name, function of the IP packet giving
# the Ethernet payload's ethertype and bytes, or None to leave it out).
def _mpls(ip):
    return 0x8847, bytes.fromhex("00012000") + bytes.fromhex("000021ff") + ip  # 2 labels


def _pppoe(ip):
    proto = 0x0057 if ip[0] >> 4 == 6 else 0x0021
    return 0x8864, struct.pack("!BBHHH", 0x11, 0, 1, len(ip) + 2, proto) + ip


def _ipv6_ext(ip, ext_type, ext):
    """ip with one extension header (next header already inside ext) after
    the fixed header."""
    if len(ip) < 40 or ip[0] >> 4 != 6:
        return None
    plen = struct.unpack("!H", ip[4:6])[0] + len(ext)
    return 0x86DD, ip[:4] + struct.pack("!HB", plen, ext_type) + ip[7:40] + ext + ip[40:]


def _ah(ip):
    if len(ip) < 40:
        return None
    return _ipv6_ext(ip, 51, bytes([ip[6], 4, 0, 0]) + bytes(20))  # 24 bytes: (4 + 2) * 4


def _atomic_fragment(ip):
    if len(ip) < 40:
        return None
    return _ipv6_ext(ip, 44, bytes([ip[6], 0, 0, 0]) + bytes.fromhex("12345678"))


EXTRA_FRAMINGS = [_mpls, _pppoe, _ah, _atomic_fragment]


def extra_framing_seeds(w, captures):
    for rel in REFERENCE:
        recs, lt = captures[rel]
        for wrap in EXTRA_FRAMINGS:
            out = []
            for t_ns, frame, orig in recs[:CHUNK_FRAMES]:
                off = ip_start(lt, frame)
                got = wrap(frame[off:]) if off is not None else None
                if got is None:
                    continue
                et, payload = got
                data = frames.ether(payload, et)
                out.append((t_ns, data, orig - (len(frame) - len(data))))
            if out:
                w.add(frame_sequence(LINK_INDEX[1], CONFIGS[0], out))


def many_connections_seed(w, n=1100):
    """n handshake SYNs from as many ports, raw IPv4: the connection and
    stream tables grow past their first size (1024 and 256 buckets)."""
    recs = []
    for i in range(n):
        tcp = frames.tcp("10.0.0.1", "10.0.0.2", 1024 + i, 80, i * 7919, 0, frames.SYN, 65535)
        ip = frames.ipv4("10.0.0.1", "10.0.0.2", 6, tcp)
        recs.append((i * 1000, ip, len(ip)))
    w.add(frame_sequence(LINK_INDEX[101], CONFIGS[0], recs))


# ---- TCP headers -------------------------------------------------------------------

def ip_start(lt, frame):
    """Offset of the IP header, or None (link types and tags we follow)."""
    if lt == 1:
        off, et = 12, None
        while off + 2 <= len(frame):
            et = struct.unpack("!H", frame[off:off + 2])[0]
            if et not in (0x8100, 0x88A8, 0x9100):
                break
            off += 4
        return off + 2 if et in (0x0800, 0x86DD) else None
    return {113: 16, 276: 20, 12: 0, 101: 0, 14: 0, 228: 0, 229: 0, 0: 4, 108: 4}.get(lt)


def tcp_header(ip, orig_ip):
    """(reported, captured TCP bytes) of a plain IPv4/IPv6 TCP packet."""
    if len(ip) >= 20 and ip[0] >> 4 == 4 and ip[9] == 6:
        ihl = (ip[0] & 15) * 4
        total = struct.unpack("!H", ip[2:4])[0] or orig_ip
        return min(total, orig_ip) - ihl, ip[ihl:]
    if len(ip) >= 40 and ip[0] >> 4 == 6 and ip[6] == 6:
        plen = struct.unpack("!H", ip[4:6])[0]
        return min(40 + plen, orig_ip) - 40, ip[40:]
    return None


def option_kinds(opts):
    kinds, i = [], 0
    while i < len(opts):
        kinds.append(opts[i])
        if opts[i] in (0, 1):
            i += 1
        elif i + 1 < len(opts) and opts[i + 1] >= 2:
            i += opts[i + 1]
        else:
            break
    return tuple(kinds)


def tcp_seeds(w, captures):
    seen = set()
    for recs, lt in captures.values():
        for _t, frame, orig in recs:
            off = ip_start(lt, frame)
            if off is None:
                continue
            got = tcp_header(frame[off:], orig - off)
            if not got or got[0] < 0:
                continue
            reported, tcp = got
            hlen = (tcp[12] >> 4) * 4 if len(tcp) > 12 else 0
            tcp = tcp[:max(hlen, 20) + 8]
            # one seed per layout: header length, option kinds, cut or not
            key = (hlen, len(tcp) >= hlen, option_kinds(tcp[20:hlen]), tcp[13] & 0x17,
                   reported > hlen)
            if key in seen:
                continue
            seen.add(key)
            w.add(struct.pack(">I", reported) + tcp)


# ---- numbers and mode names ---------------------------------------------------------

NUMBERS = [
    "10", "0.5", ".25", "5.", "1e-3", "2.5E1", " 0.000000001 ", "\t1\n", "0", "000", "+3",
    "+.5e+1", "007.50", "0.0000000005", "0.0000000015", "0.0000000025", "0.00000000250001",
    "9223372036.854775807", "9223372036.8547758065", "9223372036.8547758075",
    "9223372036854775807e-9", "99999999999", "0.01e11", "0.0000000001e19",
    "0." + "0" * 69 + "1e70", "0." + "0" * 69 + "15e61", "25" + "0" * 40 + "1e-51",
    "1" + "0" * 69 + "e-60", "123456789" * 8 + "e-300", "1e99999999999", "1e-99999999999",
    "0e99999999999999999999999999999999", "1e+0000000000000000000000000000001",
    "-1", "-0", " -0.5", "-abc", "abc", "", " ", ".", "+", "1.5.3", "1e", "1e+", "e5", ".e1",
    "inf", "nan", "0x10", "10s", "1,5", "1 5", "+ 3", "++3", "+-3", "1e5.0",
    "clocked", "all", "none", "CLOCKED", "All", "nOnE", "clock", "alll", "none ",
]


# ---- per-frame storage -------------------------------------------------------------

def store_entry(frame, payload, flowbytes, rtd_ns, stream):
    """fuzz_result_store.c's entry layout, for a plain data segment with a
    TS round trip."""
    return struct.pack(">IIqqqqqQIIIIIIiBI", 0x7, 0, rtd_ns, 0, rtd_ns, 0, 0, flowbytes,
                       max(frame - 2, 0), 0, 0, 0, 0, payload, 0, 0b1000, stream)


def store_seeds(w):
    for base in (0x00, 0xFF):
        ops, flowbytes = bytearray([base]), 0
        for frame in range(1, 25):
            flowbytes += 1448
            ops += struct.pack(">BH", 0, frame)
            ops += store_entry(frame, 1448, flowbytes, 10_000_000 + frame * 1001, frame % 3)
        for frame in (1, 7, 24, 25, 60000):
            ops += struct.pack(">BH", 1, frame)
        w.add(bytes(ops))
    again = bytearray([0]) + struct.pack(">BH", 0, 5) + store_entry(5, 10, 10, 123456789, 1)
    again += struct.pack(">BH", 0, 5) + store_entry(5, 0, 0, -1, 2) + struct.pack(">BH", 1, 5)
    w.add(bytes(again))


def parse_seeds(w):
    for s in NUMBERS:
        w.add(s.encode())


def load_captures():
    captures = {}
    for p in sorted(PCAPS.rglob("*.pcap")):
        recs, lt, _ = pcaplib.read_pcap(p)
        captures[str(p.relative_to(PCAPS))] = (recs, lt)
    return captures


def main(argv):
    if len(argv) != 2:
        sys.exit(__doc__)
    out = Path(argv[1])
    captures = load_captures()
    writers = {name: Writer(out / name)
               for name in ("packet_path", "tcp_decode", "parse", "result_store")}
    packet_path_seeds(writers["packet_path"], captures)
    extra_framing_seeds(writers["packet_path"], captures)
    many_connections_seed(writers["packet_path"])
    tcp_seeds(writers["tcp_decode"], captures)
    parse_seeds(writers["parse"])
    store_seeds(writers["result_store"])
    print("seeds from %d captures: %s" % (
        len(captures), ", ".join(f"{n} {w.count}" for n, w in writers.items())))


if __name__ == "__main__":
    main(sys.argv)
