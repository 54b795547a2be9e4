/* Flow labels ("src:sport+dst:dport", cm_format_flow) of every flow of a
 * whole file, compactly: the plugin shows connmon.flow on every pass and
 * hands it to the stats tree.
 *
 * A flow is one direction of one tcp.stream.  What its label is made of
 * (address family, addresses, ports) is taken from the first packet of the
 * flow seen (cm_label_table_note) and kept, 13 bytes for IPv4 and 37 for
 * IPv6, in one arena; an index by stream * 2 + direction finds it.  When a
 * connection's second direction is the exact reverse of the first (as on
 * every ordinary connection) only a mark is kept.  The text is made when
 * asked for (cm_label_table_get), so a first pass that shows no labels
 * (tshark -q, filters, statistics) never formats one.  A connection costs
 * 8 bytes of index and one address pair, with no per-flow allocation.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CONNMON_LABEL_TABLE_H
#define CONNMON_LABEL_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "connmon.h"

typedef struct cm_label_table {
    cm_u32_index index;     /* stream * 2 + direction -> position + 1,
                               with CM_LABEL_REVERSED set for a reverse */
    cm_arena ends;          /* family, src, dst, sport, dport per flow */
    uint64_t failures;      /* flows whose label could not be stored */
} cm_label_table;

#define CM_LABEL_TABLE_INIT {CM_U32_INDEX_INIT, CM_ARENA_INIT, 0}

/* Keeps the label of (stream, direction) from pkt's addresses and ports
 * unless it has one.  Returns false (and counts a failure) when it cannot
 * be stored, or when stream is 2^31 or more. */
bool cm_label_table_note(cm_label_table *t, uint32_t stream, unsigned direction,
                         const cm_packet *pkt);

/* The label of (stream, direction) made in buf (returned), or NULL when
 * the flow has none. */
const char *cm_label_table_get(const cm_label_table *t, uint32_t stream, unsigned direction,
                               char buf[CM_FLOW_LABEL_MAX]);

/* Bytes allocated. */
size_t cm_label_table_memory(const cm_label_table *t);

/* Frees everything; the table is empty (and reusable) afterwards. */
void cm_label_table_free(cm_label_table *t);

#endif
