/* Flow labels ("src:sport+dst:dport", cm_format_flow) kept per flow for a
 * whole file, compactly: the plugin shows connmon.flow on every pass and
 * hands it to the stats tree.
 *
 * A flow is one direction of one tcp.stream.  Its label is made from the
 * first packet of the flow seen (cm_label_table_note) and stored, with its
 * NUL, in one arena; an index by stream * 2 + direction finds it.  When a
 * connection's second direction is the exact reverse of the first
 * ("B+A" of "A+B", as it is on every ordinary connection) only a mark is
 * stored and the text is made when asked for.  A connection costs 8 bytes
 * of index and one label (~30 bytes for IPv4), with no per-flow
 * allocation.
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
    cm_arena text;
    uint64_t failures;      /* labels that could not be stored */
} cm_label_table;

#define CM_LABEL_TABLE_INIT {CM_U32_INDEX_INIT, CM_ARENA_INIT, 0}

/* Makes the label of (stream, direction) from pkt unless it has one.
 * Returns false (and counts a failure) when it cannot be stored, or when
 * stream is 2^31 or more. */
bool cm_label_table_note(cm_label_table *t, uint32_t stream, unsigned direction,
                         const cm_packet *pkt);

/* The label of (stream, direction), or NULL when there is none.  The
 * text is in the table (valid until it is freed) or, for a reverse, made
 * in buf. */
const char *cm_label_table_get(const cm_label_table *t, uint32_t stream, unsigned direction,
                               char buf[CM_FLOW_LABEL_MAX]);

/* Bytes allocated. */
size_t cm_label_table_memory(const cm_label_table *t);

/* Frees everything; the table is empty (and reusable) afterwards. */
void cm_label_table_free(cm_label_table *t);

#endif
