/* Per-connection records for --flows (SPEC "Distributions and
 * per-connection records"): one cm_conn_record per connection the command
 * line holds, written as one JSON line when the connection is forgotten
 * (idle, its port pair reused, end of input).
 *
 * Memory: a record per connection held (engine/conn_record.h: 472 bytes
 * plus its distributions' buckets, here 24 more), freed when written.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CONNMON_RECORDS_H
#define CONNMON_RECORDS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "conn_record.h"
#include "connmon.h"

typedef struct records records;

/* Records written to out, one line each, flushed after each when
 * flush_each (live captures).  Returns NULL when out of memory. */
records *records_new(FILE *out, bool flush_each);
/* Frees every record held without writing it. */
void records_free(records *rs);

/* Adds an analysed packet to the record of its connection (pkt->stream),
 * creating the record on the connection's first packet.  Returns false
 * when out of memory. */
bool records_add(records *rs, const cm_packet *pkt, const cm_result *r);

/* The connection `stream` is forgotten: writes its record and frees it
 * (nothing when it has none). */
void records_forget(records *rs, uint32_t stream);

/* End of input: writes every record still held, in the order of their
 * connections' first packets (in table order if there is no memory to
 * sort them), and frees them. */
void records_finish(records *rs);

typedef struct records_stats {
    uint64_t written;      /* records written */
    uint64_t samples_lost; /* delays left out of a distribution (memory) */
    uint64_t bytes_total;  /* memory the written records held when written */
    uint64_t bytes_max;    /* ... the largest of them */
} records_stats;

records_stats records_get_stats(const records *rs);

#endif
