/* The command line's output: the original connmon's lines (human and
 * machine formats), JSON lines with the plugin's field names, and the
 * summaries on stderr.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CONNMON_OUTPUT_H
#define CONNMON_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

#include "connmon.h"

typedef enum out_format { OUT_HUMAN, OUT_MACHINE, OUT_JSON } out_format;

/* True when the original's line-selection rule prints this packet: a
 * round-trip sample, a hole, or a duplicate ACK (-Q: samples only). */
bool output_selects(const cm_result *r, bool quick);

/* Writes one line for the packet; flow is its "src:sport+dst:dport". */
void output_line(FILE *out, out_format fmt, const cm_packet *pkt, const cm_result *r,
                 const char *flow);

/* Durations as the human format shows them: "40.2ms", "812us", "1.25s". */
void format_duration_human(char *buf, size_t size, int64_t ns);

#endif
