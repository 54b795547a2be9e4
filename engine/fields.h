/* The field table (fields.def) as C: ids, kinds, names, and the value of
 * a field in a per-packet result.  Front ends present a result by walking
 * this table, so a new field needs no presentation code of its own.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CONNMON_FIELDS_H
#define CONNMON_FIELDS_H

#include <stdbool.h>
#include <stdint.h>

#include "connmon.h"

typedef enum cm_field_id {
#define CM_FIELD(id, abbrev, kind, name, blurb) CM_F_##id,
#include "fields.def"
    CM_F_COUNT
} cm_field_id;

typedef enum cm_expert_id {
#define CM_EXPERT(id, abbrev, group, severity, summary) CM_E_##id,
#include "fields.def"
    CM_E_COUNT
} cm_expert_id;

typedef enum cm_field_kind {
    CM_KIND_TIME,          /* nanoseconds, shown as seconds */
    CM_KIND_FRAME,         /* a frame number */
    CM_KIND_FRAME_ACK,     /* a frame number this packet answers */
    CM_KIND_FRAME_DUP_ACK, /* a frame number this packet duplicates */
    CM_KIND_BOOL,
    CM_KIND_INT32,
    CM_KIND_UINT32,
    CM_KIND_UINT64,
    CM_KIND_STRING,        /* the flow label: the front end's, not in cm_result */
} cm_field_kind;

typedef struct cm_field_info {
    const char *abbrev;    /* filter name and JSON key */
    cm_field_kind kind;
    const char *name;
    const char *blurb;     /* may be NULL */
} cm_field_info;

typedef struct cm_expert_info {
    const char *abbrev;
    uint32_t bit;          /* CM_EXPERT_* */
    const char *summary;
} cm_expert_info;

extern const cm_field_info cm_field_table[CM_F_COUNT];
extern const cm_expert_info cm_expert_table[CM_E_COUNT];

/* The value of a numeric field in r (time in ns, booleans 0/1), or false
 * when r does not carry it (and for CM_KIND_STRING fields). */
bool cm_field_value(const cm_result *r, cm_field_id id, int64_t *out);

#endif
