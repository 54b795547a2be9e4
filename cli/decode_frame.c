/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "decode_frame.h"

#include <string.h>

/* DLT_NULL / DLT_LOOP start with the sender's address family, which is
 * AF_INET (2) everywhere but AF_INET6 only per OS. */
#define LOOP_AF_INET 2
#define LOOP_AF_INET6_LINUX 10
#define LOOP_AF_INET6_BSD 24     /* NetBSD, OpenBSD, BSD/OS */
#define LOOP_AF_INET6_FREEBSD 28 /* FreeBSD, DragonFly BSD */
#define LOOP_AF_INET6_DARWIN 30  /* macOS, iOS */

#define MAX_TUNNEL_DEPTH 4

static inline uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline size_t min_sz(size_t a, size_t b) { return a < b ? a : b; }

int linktype_supported(int dlt)
{
    switch (dlt) {
    case DLT_EN10MB: case DLT_LINUX_SLL: case DLT_LINUX_SLL2: case DLT_RAW:
    case LINKTYPE_RAW: case DLT_RAW_OPENBSD: case DLT_IPV4: case DLT_IPV6: case DLT_NULL: case DLT_LOOP:
        return 1;
    default:
        return 0;
    }
}

const char *linktype_name(int dlt)
{
    switch (dlt) {
    case DLT_EN10MB: return "Ethernet";
    case DLT_LINUX_SLL: return "Linux cooked v1";
    case DLT_LINUX_SLL2: return "Linux cooked v2";
    case DLT_RAW: case LINKTYPE_RAW: case DLT_RAW_OPENBSD: return "raw IP";
    case DLT_IPV4: return "raw IPv4";
    case DLT_IPV6: return "raw IPv6";
    case DLT_NULL: return "BSD loopback";
    case DLT_LOOP: return "OpenBSD loopback";
    default: return "unsupported";
    }
}

static frame_kind decode_ip(const uint8_t *p, size_t cap, size_t wire, cm_packet *pkt, int depth);

static frame_kind decode_tcp(const uint8_t *p, size_t cap, size_t wire, cm_packet *pkt)
{
    cm_tcp_header h;
    if (cm_tcp_decode(p, cap, wire, &h) != CM_TCP_OK)
        return FRAME_NOT_TCP;
    cm_packet_set_tcp(pkt, &h);
    return FRAME_TCP;
}

/* The transport after an IP header: TCP, or another IP header (tunnel). */
static frame_kind decode_next(uint8_t proto, const uint8_t *p, size_t cap, size_t wire,
                              cm_packet *pkt, int depth)
{
    switch (proto) {
    case 6:
        return decode_tcp(p, cap, wire, pkt);
    case 4:  /* IPv4 in IP */
    case 41: /* IPv6 in IP */
        if (depth >= MAX_TUNNEL_DEPTH)
            return FRAME_NOT_TCP;
        return decode_ip(p, cap, wire, pkt, depth + 1);
    default: /* ICMP errors quote TCP headers: never analysed */
        return FRAME_NOT_TCP;
    }
}

static frame_kind decode_ipv4(const uint8_t *p, size_t cap, size_t wire, cm_packet *pkt, int depth)
{
    if (cap < 20)
        return FRAME_NOT_TCP;
    size_t ihl = (size_t)(p[0] & 0x0f) * 4;
    if (ihl < 20 || cap < ihl)
        return FRAME_NOT_TCP;
    size_t total = be16(p + 2);
    if (total == 0)
        total = wire;            /* TSO: Wireshark uses the frame's length */
    else if (total < ihl)
        return FRAME_NOT_TCP;    /* bogus length */
    size_t rep = min_sz(total, wire); /* the length is only ever shortened */
    if ((be16(p + 6) & 0x3fff) != 0)
        return FRAME_NOT_TCP;    /* a fragment */
    pkt->src.family = pkt->dst.family = 4;
    memcpy(pkt->src.bytes, p + 12, 4);
    memcpy(pkt->dst.bytes, p + 16, 4);
    return decode_next(p[9], p + ihl, min_sz(cap, rep) - ihl, rep - ihl, pkt, depth);
}

static frame_kind decode_ipv6(const uint8_t *p, size_t cap, size_t wire, cm_packet *pkt, int depth)
{
    if (cap < 40)
        return FRAME_NOT_TCP;
    size_t plen = be16(p + 4);
    if (plen == 0)
        return FRAME_NOT_TCP; /* jumbogram */
    size_t rep = min_sz(40 + plen, wire);
    cap = min_sz(cap, rep);
    uint8_t nxt = p[6];
    size_t off = 40;
    for (;;) {
        switch (nxt) {
        case 0:  /* hop-by-hop */
        case 43: /* routing */
        case 60: /* destination options */
            if (off + 2 > cap)
                return FRAME_NOT_TCP;
            nxt = p[off];
            off += ((size_t)p[off + 1] + 1) * 8;
            break;
        case 51: /* AH */
            if (off + 2 > cap)
                return FRAME_NOT_TCP;
            nxt = p[off];
            off += ((size_t)p[off + 1] + 2) * 4;
            break;
        case 44: /* fragment: only an atomic one carries a whole segment */
            if (off + 8 > cap)
                return FRAME_NOT_TCP;
            if ((be16(p + off + 2) & 0xfff9) != 0)
                return FRAME_NOT_TCP;
            nxt = p[off];
            off += 8;
            break;
        default:
            if (off > cap)
                return FRAME_NOT_TCP;
            pkt->src.family = pkt->dst.family = 6;
            memcpy(pkt->src.bytes, p + 8, 16);
            memcpy(pkt->dst.bytes, p + 24, 16);
            return decode_next(nxt, p + off, cap - off, rep - off, pkt, depth);
        }
        if (off > rep)
            return FRAME_NOT_TCP;
    }
}

static frame_kind decode_ip(const uint8_t *p, size_t cap, size_t wire, cm_packet *pkt, int depth)
{
    if (cap < 1)
        return FRAME_NOT_TCP;
    switch (p[0] >> 4) {
    case 4: return decode_ipv4(p, cap, wire, pkt, depth);
    case 6: return decode_ipv6(p, cap, wire, pkt, depth);
    default: return FRAME_NOT_TCP;
    }
}

/* An ethertype (after any VLAN tags) to IP. */
static frame_kind decode_ethertype(uint16_t type, const uint8_t *p, size_t cap, size_t wire,
                                   cm_packet *pkt)
{
    for (;;) {
        switch (type) {
        case 0x0800:
        case 0x86dd:
            return decode_ip(p, cap, wire, pkt, 0);
        case 0x8100: /* 802.1Q */
        case 0x88a8: /* 802.1ad */
        case 0x9100:
            if (cap < 4)
                return FRAME_NOT_TCP;
            type = be16(p + 2);
            p += 4, cap -= 4, wire -= 4;
            break;
        case 0x8847: /* MPLS: labels down to bottom of stack, then IP */
        case 0x8848:
            for (;;) {
                if (cap < 4)
                    return FRAME_NOT_TCP;
                int bottom = p[2] & 0x01;
                p += 4, cap -= 4, wire -= 4;
                if (bottom)
                    break;
            }
            return decode_ip(p, cap, wire, pkt, 0);
        case 0x8864: /* PPPoE session: 6-byte header, 2-byte PPP protocol */
            if (cap < 8)
                return FRAME_NOT_TCP;
            if (be16(p + 6) == 0x0021 || be16(p + 6) == 0x0057)
                return decode_ip(p + 8, cap - 8, wire - 8, pkt, 0);
            return FRAME_NOT_TCP;
        default:
            return FRAME_NOT_TCP;
        }
    }
}

/* BSD loopback: a 4-byte address family, then IP.  DLT_LOOP's is in
 * network byte order; DLT_NULL's in the capturing host's, either one (a
 * family fits in the low byte, so a zero first byte means big-endian). */
static frame_kind decode_loopback(int dlt, const uint8_t *d, size_t cap, size_t wire,
                                  cm_packet *pkt)
{
    if (cap < 4)
        return FRAME_NOT_TCP;
    uint32_t af = dlt == DLT_LOOP || d[0] == 0
                      ? (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | d[2] << 8 | d[3]
                      : (uint32_t)d[3] << 24 | (uint32_t)d[2] << 16 | d[1] << 8 | d[0];
    switch (af) {
    case LOOP_AF_INET:
    case LOOP_AF_INET6_LINUX:
    case LOOP_AF_INET6_BSD:
    case LOOP_AF_INET6_FREEBSD:
    case LOOP_AF_INET6_DARWIN:
        return decode_ip(d + 4, cap - 4, wire - 4, pkt, 0);
    default:
        return FRAME_NOT_TCP;
    }
}

frame_kind decode_frame(int dlt, const uint8_t *d, size_t cap, size_t wire, cm_packet *pkt)
{
    if (wire < cap)
        wire = cap;
    switch (dlt) {
    case DLT_EN10MB:
        if (cap < 14)
            return FRAME_NOT_TCP;
        return decode_ethertype(be16(d + 12), d + 14, cap - 14, wire - 14, pkt);
    case DLT_LINUX_SLL:
        if (cap < 16)
            return FRAME_NOT_TCP;
        return decode_ethertype(be16(d + 14), d + 16, cap - 16, wire - 16, pkt);
    case DLT_LINUX_SLL2:
        if (cap < 20)
            return FRAME_NOT_TCP;
        return decode_ethertype(be16(d), d + 20, cap - 20, wire - 20, pkt);
    case DLT_RAW:
    case LINKTYPE_RAW:
    case DLT_RAW_OPENBSD:
    case DLT_IPV4:
    case DLT_IPV6:
        return decode_ip(d, cap, wire, pkt, 0);
    case DLT_NULL:
    case DLT_LOOP:
        return decode_loopback(dlt, d, cap, wire, pkt);
    default:
        return FRAME_BAD_LINK;
    }
}
