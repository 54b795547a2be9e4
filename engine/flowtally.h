/* Flow and one-way counting, shared by the front ends' summaries (the
 * plugin's stats tree, the command line's stderr summary).
 *
 * A flow is one direction of one connection (tcp.stream).  A connection is
 * one-way while only one of its directions has been seen; when the other
 * direction shows up it stops being one-way.  Each front end keeps, per
 * connection, which directions it has seen (two bits) and calls
 * cm_flow_tally_see for every packet.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CONNMON_FLOWTALLY_H
#define CONNMON_FLOWTALLY_H

#include <stdbool.h>
#include <stdint.h>

typedef struct cm_flow_tally {
    uint64_t flows;   /* directions seen */
    uint64_t one_way; /* connections of which only one direction was seen */
} cm_flow_tally;

/* Counts the first packet of a direction; other_seen: the connection's
 * other direction was seen before.  Call it once per direction. */
static inline void cm_flow_tally_add(cm_flow_tally *t, bool other_seen)
{
    t->flows++;
    if (other_seen)
        t->one_way--;
    else
        t->one_way++;
}

/* Counts a packet sent in `direction` (0 or 1) of a connection whose seen
 * directions are the bits of *seen_dirs (bit 0: direction 0, bit 1:
 * direction 1; start at 0).  Returns true when this is the first packet of
 * its direction, i.e. when the tally changed. */
static inline bool cm_flow_tally_see(cm_flow_tally *t, uint8_t *seen_dirs, unsigned direction)
{
    uint8_t bit = (uint8_t)(1u << (direction & 1u));
    if (*seen_dirs & bit)
        return false;
    cm_flow_tally_add(t, *seen_dirs != 0);
    *seen_dirs |= bit;
    return true;
}

#endif
