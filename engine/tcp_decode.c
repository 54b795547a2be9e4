/* TCP header decoding: the bytes of a TCP header to the facts the engine
 * needs (cm_tcp_header), read the way Wireshark's TCP dissector reads them,
 * and those facts into a cm_packet.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "connmon.h"

#include <string.h>

static inline uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Minimum captured bytes for Wireshark to give ports, seq, ack, flags and
 * window (it reads the header up to the window field before anything). */
#define CM_TCP_FIXED_NEEDED 16
#define CM_TCPOPT_EOL 0
#define CM_TCPOPT_NOP 1
#define CM_TCPOPT_SACK 5
#define CM_TCPOPT_TS 8

cm_tcp_status cm_tcp_decode(const uint8_t *p, size_t captured, size_t reported,
                            cm_tcp_header *h)
{
    memset(h, 0, sizeof *h);
    if (captured < CM_TCP_FIXED_NEEDED)
        return CM_TCP_TRUNCATED;
    h->sport = be16(p);
    h->dport = be16(p + 2);
    h->seq = be32(p + 4);
    h->ack = be32(p + 8);
    h->flags = be16(p + 12) & 0x0fff;
    h->window = be16(p + 14);
    h->header_len = (uint16_t)((p[12] >> 4) * 4);
    if (h->header_len < 20)
        return CM_TCP_BAD_OFFSET;
    if (reported < h->header_len)
        return CM_TCP_SHORT_SEGMENT;
    h->payload = (uint32_t)(reported - h->header_len);

    /* Options, walked the way Wireshark does: stop at the first malformed
     * length or non-zero padding after EOL; what is not captured is not
     * there. */
    size_t end = h->header_len < captured ? h->header_len : captured;
    size_t off = 20;
    bool eol_seen = false;
    while (off < end) {
        uint8_t kind = p[off];
        if (eol_seen && kind != CM_TCPOPT_EOL)
            break;
        if (kind == CM_TCPOPT_EOL || kind == CM_TCPOPT_NOP) {
            eol_seen = eol_seen || kind == CM_TCPOPT_EOL;
            off++;
            continue;
        }
        if (off + 1 >= h->header_len || off + 1 >= captured)
            break; /* length byte past the header, or not captured */
        uint8_t olen = p[off + 1];
        if (olen < 2 || off + olen > h->header_len)
            break;
        if (kind == CM_TCPOPT_TS && olen == 10) {
            if (off + 10 > captured)
                break; /* cut by the snaplen: absent */
            h->has_ts = true;
            h->tsval = be32(p + off + 2);
            h->tsecr = be32(p + off + 6);
        }
        /* Wireshark counts a SACK block once its left edge is read. */
        if (kind == CM_TCPOPT_SACK && olen >= 6 && off + 6 <= captured)
            h->has_sack = true;
        off += olen;
    }
    return CM_TCP_OK;
}

void cm_packet_set_tcp(cm_packet *pkt, const cm_tcp_header *h)
{
    pkt->sport = h->sport;
    pkt->dport = h->dport;
    pkt->seq = h->seq;
    pkt->ack = h->ack;
    pkt->flags = h->flags;
    pkt->window = h->window;
    pkt->payload = h->payload;
    pkt->has_ts = h->has_ts;
    pkt->has_sack = h->has_sack;
    pkt->tsval = h->tsval;
    pkt->tsecr = h->tsecr;
}

/* One endpoint on 64 bits: the port above the address words, so that for
 * IPv4 the mapping is one to one before the final mix. */
static uint64_t endpoint_hash(const cm_addr *a, uint16_t port)
{
    uint64_t h = (uint64_t)port << 32 | (uint64_t)a->family << 48;
    size_t len = a->family == 6 ? 16 : 4;
    for (size_t i = 0; i < len; i += 4) {
        uint32_t word;
        memcpy(&word, a->bytes + i, sizeof word);
        h = (h ^ word) * 0x9e3779b97f4a7c15ull;
        h ^= h >> 32;
    }
    return h;
}

/* Symmetric (a sum of the two endpoints); mixed so that the low bits a
 * table uses depend on every input bit. */
uint32_t cm_packet_pair_hash(const cm_packet *p)
{
    uint64_t h = endpoint_hash(&p->src, p->sport) + endpoint_hash(&p->dst, p->dport);
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return (uint32_t)h;
}
