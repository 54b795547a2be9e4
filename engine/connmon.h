/* connmon analysis engine: per-packet round-trip delays and loss hints
 * from passively observed TCP headers (see docs/semantics.md and SPEC).
 *
 * Pure C11, no Wireshark or glib dependency, no globals: packet facts in,
 * per-packet results out.  Front ends (the Wireshark plugin, the command
 * line) extract a cm_packet per TCP header, feed packets in frame order and
 * present the cm_result.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CONNMON_ENGINE_H
#define CONNMON_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* TCP flag bits as they appear in the low 12 bits of header bytes 12-13. */
enum {
    CM_TH_FIN = 0x001,
    CM_TH_SYN = 0x002,
    CM_TH_RST = 0x004,
    CM_TH_PSH = 0x008,
    CM_TH_ACK = 0x010,
    CM_TH_URG = 0x020,
    CM_TH_ECE = 0x040,
    CM_TH_CWR = 0x080,
    CM_TH_AE  = 0x100,
};

/* What round trips started by pure ACKs are worth (preference
 * connmon.ts_pure_acks). */
typedef enum cm_ts_pure_acks {
    CM_TS_PURE_ACKS_CLOCKED = 0, /* only when the echoing side had data in flight */
    CM_TS_PURE_ACKS_ALL     = 1, /* the original connmon */
    CM_TS_PURE_ACKS_NONE    = 2, /* pure ACKs never start a TS round trip */
} cm_ts_pure_acks;

#define CM_DEFAULT_RTD_MAX_AGE_NS INT64_C(10000000000)

#define CM_DEFAULT_PACK_IDLE_NS INT64_C(100000000)

typedef struct cm_config {
    int64_t rtd_max_age_ns;        /* pending round-trip starts expire after this */
    cm_ts_pure_acks ts_pure_acks;
    /* A connection without a packet for this long (capture time) is packed
     * into a few dozen bytes until its next packet: a memory/CPU trade-off
     * that never changes a result.  0: after every packet (tests); < 0:
     * never. */
    int64_t pack_idle_ns;
} cm_config;

/* Fills *cfg with the defaults (10 s, clocked, pack after 0.1 s). */
void cm_config_default(cm_config *cfg);

typedef struct cm_addr {
    uint8_t family; /* 4 or 6 */
    uint8_t bytes[16];
} cm_addr;

/* The facts the engine needs about one analysed TCP header. */
typedef struct cm_packet {
    int64_t  t_ns;      /* capture time, ns since the epoch */
    uint32_t frame;     /* frame number (1-based, as Wireshark counts) */
    uint32_t stream;    /* connection id: Wireshark's tcp.stream */
    cm_addr  src, dst;
    uint16_t sport, dport;
    uint32_t seq, ack;  /* raw, absolute */
    uint16_t flags;     /* CM_TH_* */
    uint16_t window;    /* raw window field, unscaled */
    uint32_t payload;   /* TCP payload bytes (Wireshark's tcp.len) */
    bool     has_ts;    /* complete timestamp option present */
    bool     has_sack;  /* SACK option with at least one block's left edge captured */
    uint32_t tsval, tsecr;
} cm_packet;

/* Which optional values a result carries. */
enum {
    CM_HAS_TSRTD  = 1u << 0, /* tsrtd, tsrtd_frame, tsrtd_pureack */
    CM_HAS_SEQRTD = 1u << 1, /* seqrtd, seqrtd_frame */
    CM_HAS_MINRTD = 1u << 2, /* set whenever TSRTD or SEQRTD is */
    CM_HAS_SEQGAP = 1u << 3, /* every packet but the first of its flow */
    CM_HAS_DUPACK = 1u << 4, /* dupack, dupack_num, dupack_frame */
    CM_HAS_PATHRTD = 1u << 5, /* pathrtd, pathrtd_frame */
};

/* Expert hints. */
enum {
    CM_EXPERT_HOLE   = 1u << 0, /* bytes missing before this segment */
    CM_EXPERT_BEHIND = 1u << 1, /* retransmission or reordering */
    CM_EXPERT_DUPACK = 1u << 2, /* duplicate ACK */
};

typedef struct cm_result {
    uint32_t present;      /* CM_HAS_* */
    uint32_t expert;       /* CM_EXPERT_* */
    int64_t  tsrtd_ns;
    int64_t  seqrtd_ns;
    int64_t  minrtd_ns;
    int64_t  dupack_ns;
    int64_t  pathrtd_ns;   /* this packet's half + the reverse flow's latest */
    uint64_t flowbytes;
    uint32_t tsrtd_frame;
    uint32_t seqrtd_frame;
    uint32_t dupack_num;
    uint32_t dupack_frame;
    uint32_t pathrtd_frame;
    uint32_t payload;
    int32_t  seqgap;
    bool     tsrtd_pureack;
    bool     flow_first;   /* first packet of its flow (no seqgap) */
    uint8_t  direction;    /* 0: sent by the stream's first sender, 1: the other side */
} cm_result;

typedef struct cm_engine cm_engine;

/* Returns NULL when out of memory. */
cm_engine *cm_engine_new(const cm_config *cfg);
void cm_engine_free(cm_engine *eng);

/* Analyses one packet; packets must come in frame order.  Returns false
 * (and leaves *res zeroed) only when out of memory. */
bool cm_engine_analyse(cm_engine *eng, const cm_packet *pkt, cm_result *res);

/* Drops all state of one connection (e.g. an idle flow in a live capture). */
void cm_engine_forget_stream(cm_engine *eng, uint32_t stream);

/* Number of connections currently held. */
size_t cm_engine_stream_count(const cm_engine *eng);

/* What the engine could not do or chose to forget, counted rather than
 * hidden (pping's error counters).  All count since cm_engine_new. */
typedef struct cm_engine_counters {
    uint64_t alloc_failures;    /* a connection or pending entry could not be
                                   allocated: some samples are missing */
    uint64_t entries_expired;   /* pending round-trip starts forgotten after
                                   rtd_max_age without an answer */
    uint64_t streams_forgotten; /* connections dropped by
                                   cm_engine_forget_stream (idle, evicted) */
    uint64_t conns_packed;      /* idle connections packed (pack_idle_ns) */
    uint64_t conns_unpacked;    /* and unpacked by their next packet */
} cm_engine_counters;

void cm_engine_get_counters(const cm_engine *eng, cm_engine_counters *out);

/* What the engine holds now. */
typedef struct cm_engine_memory {
    size_t bytes;      /* from the system: tables, slabs, rings */
    size_t conns;      /* connections */
    size_t conns_hot;  /* of them not packed */
} cm_engine_memory;

void cm_engine_get_memory(const cm_engine *eng, cm_engine_memory *out);

/* ---- helpers shared by the front ends ---------------------------------- */

/* Serial order on 32 bits (RFC 1982): a after b. */
static inline bool cm_serial_gt(uint32_t a, uint32_t b)
{
    uint32_t d = a - b;
    return d != 0 && d < 0x80000000u;
}

/* Serial order: a equal to or before b. */
static inline bool cm_serial_le(uint32_t a, uint32_t b)
{
    return (uint32_t)(b - a) < 0x80000000u;
}

/* Same family and same address bytes (4 or 16 of them). */
static inline bool cm_addr_eq(const cm_addr *a, const cm_addr *b)
{
    if (a->family != b->family)
        return false;
    /* fixed sizes: the compiler turns each into one or two compares */
    return a->family == 6 ? memcmp(a->bytes, b->bytes, 16) == 0
                          : memcmp(a->bytes, b->bytes, 4) == 0;
}

/* A mixed hash of the packet's address/port pair, the same for both
 * directions of a connection: the command line's connection table and the
 * plugin's conversation cache. */
uint32_t cm_packet_pair_hash(const cm_packet *p);

/* Formats "src:sport+dst:dport" (IPv6 in brackets) into buf; returns the
 * length written (without the NUL).  CM_FLOW_LABEL_MAX is always enough. */
#define CM_FLOW_LABEL_MAX 112
size_t cm_format_flow(char *buf, size_t size, const cm_packet *pkt);

/* Parses a non-negative decimal number of seconds ("10", "0.5", "1e-3")
 * into whole nanoseconds, rounding to nearest, ties to even.  Returns NULL
 * on success or a static message saying what is wrong. */
const char *cm_parse_seconds(const char *text, int64_t *ns_out);

/* Parses "clocked", "all" or "none" (case-insensitive).  Returns false for
 * anything else. */
bool cm_parse_ts_pure_acks(const char *text, cm_ts_pure_acks *out);
const char *cm_ts_pure_acks_name(cm_ts_pure_acks mode);

/* ---- TCP header decoding -------------------------------------------------- */

typedef enum cm_tcp_status {
    CM_TCP_OK = 0,
    CM_TCP_TRUNCATED,     /* fixed header not captured far enough */
    CM_TCP_BAD_OFFSET,    /* data offset below 5 words */
    CM_TCP_SHORT_SEGMENT, /* IP length shorter than the TCP header */
} cm_tcp_status;

typedef struct cm_tcp_header {
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint16_t flags, window;
    uint16_t header_len;
    uint32_t payload;
    bool     has_ts;
    bool     has_sack;    /* a SACK block's left edge was captured */
    uint32_t tsval, tsecr;
} cm_tcp_header;

/* Decodes the TCP header at p.  captured: bytes available from p;
 * reported: the segment's length according to the IP header.  A header cut
 * inside its options decodes fine; a cut timestamp option counts as absent
 * and of several timestamp options the last complete one counts. */
cm_tcp_status cm_tcp_decode(const uint8_t *p, size_t captured, size_t reported,
                            cm_tcp_header *out);

/* Copies a decoded header's facts (ports, seq, ack, flags, window, payload,
 * TS and SACK options) into *pkt; addresses, stream, frame and time are the
 * front end's. */
void cm_packet_set_tcp(cm_packet *pkt, const cm_tcp_header *h);

#ifdef __cplusplus
}
#endif

#endif /* CONNMON_ENGINE_H */
