/* Every analysed frame's result, kept for the whole file, compactly.
 *
 * The plugin computes a frame's values once, on the first pass, and shows
 * them again on every later pass (two-pass tshark, the GUI).  This store
 * keeps them as variable-length records (result_codec.h) in one arena,
 * found through an index by frame number: a record is the tcp.stream and
 * the has_ts bit, then the encoded cm_result.  A frame costs its index
 * entry (4 bytes, every frame of the file) and its record (typically
 * 6-30 bytes), with no per-frame allocation.
 *
 * Frames may be stored in any order, each once (storing a frame again
 * replaces its record; the old bytes stay in the arena unused).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CONNMON_FRAME_STORE_H
#define CONNMON_FRAME_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "connmon.h"

/* What is stored per frame. */
typedef struct cm_frame_entry {
    cm_result r;
    uint32_t stream;    /* tcp.stream (cm_packet.stream) */
    bool has_ts;        /* cm_packet.has_ts */
} cm_frame_entry;

typedef struct cm_frame_store {
    cm_u32_index index;     /* frame number -> record position + 1; 0: none */
    cm_arena records;
    uint64_t frames;        /* records stored */
    uint64_t record_bytes;  /* their total length */
    uint64_t failures;      /* records that could not be stored (no memory,
                               or the 4 GB of record positions used up) */
} cm_frame_store;

#define CM_FRAME_STORE_INIT {CM_U32_INDEX_INIT, CM_ARENA_INIT, 0, 0, 0}

/* Stores e as frame `frame`'s record.  Returns false (and counts a
 * failure) when it cannot: the frame then has no record. */
bool cm_frame_store_put(cm_frame_store *s, uint32_t frame, const cm_frame_entry *e);

/* Frame `frame`'s record into *e; false when the frame has none. */
bool cm_frame_store_get(const cm_frame_store *s, uint32_t frame, cm_frame_entry *e);

/* Bytes allocated: index pages, arena chunks and their tables. */
size_t cm_frame_store_memory(const cm_frame_store *s);

/* Frees everything; the store is empty (and reusable) afterwards. */
void cm_frame_store_free(cm_frame_store *s);

#endif
