/* libFuzzer target: the TCP header decoder (cm_tcp_decode, engine/
 * tcp_decode.c) and cm_packet_set_tcp.
 *
 * Input: reported (u32 big-endian: the segment's length according to the
 * IP header), then the captured bytes from the start of the TCP header.
 * The captured bytes are copied into a heap buffer of exactly their size,
 * so that AddressSanitizer sees any read past them.
 *
 * Checked against what connmon.h promises: the status (truncated below 16
 * captured bytes, a data offset below 5 words, a segment shorter than its
 * header), the fixed fields read from their bytes, payload = reported -
 * header length, and the TS and SACK options as a separate walk written
 * here finds them: Wireshark's rules (stop at the first malformed length,
 * at non-zero padding after EOL, at what is not captured; the last
 * complete timestamp option counts; a SACK block counts once its left edge
 * is captured).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "connmon.h"
#include "fuzz_check.h"

#define UNCAPTURED (-1)

typedef struct ref_options {
    bool has_ts, has_sack;
    uint32_t tsval, tsecr;
} ref_options;

/* Byte i of the header as the capture has it, or UNCAPTURED. */
static int byte_at(const uint8_t *p, size_t captured, size_t i)
{
    return i < captured ? p[i] : UNCAPTURED;
}

static uint32_t word_at(const uint8_t *p, size_t i)
{
    return (uint32_t)p[i] << 24 | (uint32_t)p[i + 1] << 16 | (uint32_t)p[i + 2] << 8 | p[i + 3];
}

/* The option area, bytes 20 .. header_len - 1, one option at a time. */
static ref_options walk_options(const uint8_t *p, size_t captured, size_t header_len)
{
    ref_options o = {0};
    bool padding = false; /* after an EOL only zero bytes may follow */
    size_t i = 20;
    while (i < header_len) {
        int kind = byte_at(p, captured, i);
        if (kind == UNCAPTURED)
            break;
        if (kind == 0) {
            padding = true;
            i += 1;
            continue;
        }
        if (padding)
            break;
        if (kind == 1) {
            i += 1;
            continue;
        }
        if (i + 1 >= header_len)
            break;
        int len = byte_at(p, captured, i + 1);
        if (len == UNCAPTURED || len < 2 || i + (size_t)len > header_len)
            break;
        bool whole = i + (size_t)len <= captured;
        if (kind == 8 && len == 10) {
            if (!whole)
                break;
            o.has_ts = true;
            o.tsval = word_at(p, i + 2);
            o.tsecr = word_at(p, i + 6);
        }
        if (kind == 5 && len >= 6 && i + 6 <= captured)
            o.has_sack = true;
        i += (size_t)len;
    }
    return o;
}

static void check_packet_copy(const cm_tcp_header *h)
{
    cm_packet pkt;
    memset(&pkt, 0xa5, sizeof pkt);
    cm_packet before = pkt;
    cm_packet_set_tcp(&pkt, h);
    FUZZ_CHECK(pkt.sport == h->sport && pkt.dport == h->dport, "ports");
    FUZZ_CHECK(pkt.seq == h->seq && pkt.ack == h->ack, "seq/ack");
    FUZZ_CHECK(pkt.flags == h->flags && pkt.window == h->window, "flags/window");
    FUZZ_CHECK(pkt.payload == h->payload, "payload");
    FUZZ_CHECK(pkt.has_ts == h->has_ts && pkt.has_sack == h->has_sack, "option flags");
    FUZZ_CHECK(pkt.tsval == h->tsval && pkt.tsecr == h->tsecr, "tsval/tsecr");
    /* the front end's part is left alone */
    FUZZ_CHECK(pkt.t_ns == before.t_ns && pkt.frame == before.frame &&
                   pkt.stream == before.stream,
               "time, frame or stream written");
    FUZZ_CHECK(memcmp(&pkt.src, &before.src, sizeof pkt.src) == 0 &&
                   memcmp(&pkt.dst, &before.dst, sizeof pkt.dst) == 0,
               "addresses written");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    size_t reported = word_at(data, 0);
    size_t captured = size - 4;
    uint8_t *p = malloc(captured ? captured : 1);
    FUZZ_CHECK(p != NULL, "out of memory");
    memcpy(p, data + 4, captured);

    cm_tcp_header h;
    cm_tcp_status st = cm_tcp_decode(p, captured, reported, &h);
    size_t header_len = captured >= 13 ? (size_t)(p[12] >> 4) * 4 : 0;

    if (captured < 16) {
        FUZZ_CHECK(st == CM_TCP_TRUNCATED, "captured %zu: status %d", captured, (int)st);
    } else if (header_len < 20) {
        FUZZ_CHECK(st == CM_TCP_BAD_OFFSET, "offset %zu: status %d", header_len, (int)st);
    } else if (reported < header_len) {
        FUZZ_CHECK(st == CM_TCP_SHORT_SEGMENT, "reported %zu < %zu: status %d", reported,
                   header_len, (int)st);
    } else {
        FUZZ_CHECK(st == CM_TCP_OK, "status %d", (int)st);
        FUZZ_CHECK(h.sport == (p[0] << 8 | p[1]) && h.dport == (p[2] << 8 | p[3]), "ports");
        FUZZ_CHECK(h.seq == word_at(p, 4) && h.ack == word_at(p, 8), "seq/ack");
        FUZZ_CHECK(h.flags == ((p[12] & 0x0f) << 8 | p[13]), "flags 0x%x", h.flags);
        FUZZ_CHECK(h.window == (p[14] << 8 | p[15]), "window");
        FUZZ_CHECK(h.header_len == header_len, "header_len %u != %zu", h.header_len, header_len);
        FUZZ_CHECK(h.payload == reported - header_len, "payload %u, reported %zu, header %zu",
                   h.payload, reported, header_len);
        ref_options o = walk_options(p, captured, header_len);
        FUZZ_CHECK(h.has_ts == o.has_ts, "has_ts %d, reference %d", h.has_ts, o.has_ts);
        if (o.has_ts)
            FUZZ_CHECK(h.tsval == o.tsval && h.tsecr == o.tsecr, "TS %u/%u, reference %u/%u",
                       h.tsval, h.tsecr, o.tsval, o.tsecr);
        FUZZ_CHECK(h.has_sack == o.has_sack, "has_sack %d, reference %d", h.has_sack,
                   o.has_sack);
        check_packet_copy(&h);
    }
    free(p);
    return 0;
}
