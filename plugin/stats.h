/* connmon statistics: the "connmon" tap and the stats tree on it
 * (Statistics -> connmon in Wireshark, tshark -z connmon,tree).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CONNMON_STATS_H
#define CONNMON_STATS_H

#include <glib.h>

#include "connmon.h"

/* What a frame shows, for one dissection of it: made from the analysis on
 * the first pass, from the compact stored copy on later ones.  It is also
 * what the "connmon" tap hands to its listeners, on every pass (packet
 * scope: a listener keeps copies of what it needs). */
typedef struct connmon_frame_result {
    cm_result r;
    const char *flow; /* connmon.flow label: the file's or packet scope */
    guint32 stream;   /* tcp.stream; r.direction says which side sent it */
    gboolean has_ts;  /* the TCP header carried a complete timestamp option */
} connmon_frame_result;

/* Registers the stats tree on the "connmon" tap (call from the protocol
 * registration, after register_tap("connmon")). */
void connmon_stats_register(void);

#endif
