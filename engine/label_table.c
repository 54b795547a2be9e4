/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "label_table.h"

#include <string.h>

/* Index values: position + 1 in the low 31 bits, this bit for "the
 * reverse of the flow kept at that position".  The arena stays far below
 * 2 GB (37 bytes per flow at most). */
#define CM_LABEL_REVERSED 0x80000000u
#define MAX_STREAM 0x7fffffffu

/* Kept per flow: family, source and destination address (4 bytes each,
 * or 16 for IPv6), source and destination port (host order). */
static size_t addr_len(uint8_t family)
{
    return family == 6 ? 16 : 4;
}

static size_t put_ends(uint8_t *out, const cm_packet *p)
{
    size_t a = addr_len(p->src.family);
    out[0] = p->src.family;
    memcpy(out + 1, p->src.bytes, a);
    memcpy(out + 1 + a, p->dst.bytes, a);
    memcpy(out + 1 + 2 * a, &p->sport, 2);
    memcpy(out + 3 + 2 * a, &p->dport, 2);
    return 5 + 2 * a;
}

/* The kept ends into a packet (addresses and ports only), swapped for a
 * reverse. */
static void get_ends(const uint8_t *in, bool reversed, cm_packet *p)
{
    size_t a = addr_len(in[0]);
    cm_addr *src = reversed ? &p->dst : &p->src, *dst = reversed ? &p->src : &p->dst;
    uint16_t *sport = reversed ? &p->dport : &p->sport, *dport = reversed ? &p->sport : &p->dport;
    memset(src, 0, sizeof *src);
    memset(dst, 0, sizeof *dst);
    src->family = dst->family = in[0];
    memcpy(src->bytes, in + 1, a);
    memcpy(dst->bytes, in + 1 + a, a);
    memcpy(sport, in + 1 + 2 * a, 2);
    memcpy(dport, in + 3 + 2 * a, 2);
}

/* Whether pkt goes the opposite way of the flow kept at `in`: then its
 * label is that flow's, reversed. */
static bool is_reverse(const uint8_t *in, const cm_packet *p)
{
    size_t a = addr_len(in[0]);
    uint16_t sport, dport;
    memcpy(&sport, in + 1 + 2 * a, 2);
    memcpy(&dport, in + 3 + 2 * a, 2);
    return in[0] == p->src.family && p->dst.family == p->src.family &&
           memcmp(in + 1, p->dst.bytes, a) == 0 && memcmp(in + 1 + a, p->src.bytes, a) == 0 &&
           sport == p->dport && dport == p->sport;
}

static bool note_failed(cm_label_table *t)
{
    t->failures++;
    return false;
}

bool cm_label_table_note(cm_label_table *t, uint32_t stream, unsigned direction,
                         const cm_packet *pkt)
{
    if (stream > MAX_STREAM)
        return note_failed(t);
    uint32_t key = stream * 2 + (direction & 1);
    if (cm_u32_index_get(&t->index, key))
        return true;
    uint32_t other = cm_u32_index_get(&t->index, key ^ 1);
    if (other && !(other & CM_LABEL_REVERSED) &&
        is_reverse(cm_arena_at(&t->ends, other - 1), pkt))
        return cm_u32_index_set(&t->index, key, other | CM_LABEL_REVERSED) || note_failed(t);

    uint8_t ends[5 + 2 * 16];
    size_t n = put_ends(ends, pkt);
    uint32_t pos;
    uint8_t *dst = cm_arena_alloc(&t->ends, n, &pos);
    if (!dst || pos + 1 >= CM_LABEL_REVERSED)
        return note_failed(t);
    memcpy(dst, ends, n);
    return cm_u32_index_set(&t->index, key, pos + 1) || note_failed(t);
}

const char *cm_label_table_get(const cm_label_table *t, uint32_t stream, unsigned direction,
                               char buf[CM_FLOW_LABEL_MAX])
{
    if (stream > MAX_STREAM)
        return NULL;
    uint32_t v = cm_u32_index_get(&t->index, stream * 2 + (direction & 1));
    if (!v)
        return NULL;
    cm_packet p;
    get_ends(cm_arena_at(&t->ends, (v & ~CM_LABEL_REVERSED) - 1), v & CM_LABEL_REVERSED, &p);
    cm_format_flow(buf, CM_FLOW_LABEL_MAX, &p);
    return buf;
}

size_t cm_label_table_memory(const cm_label_table *t)
{
    return cm_u32_index_memory(&t->index) + cm_arena_memory(&t->ends);
}

void cm_label_table_free(cm_label_table *t)
{
    cm_u32_index_free(&t->index);
    cm_arena_free(&t->ends);
    memset(t, 0, sizeof *t);
}
