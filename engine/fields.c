/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "fields.h"

const cm_field_info cm_field_table[CM_F_COUNT] = {
#define CM_FIELD(id, abbrev, kind, name, blurb) {abbrev, CM_KIND_##kind, name, blurb},
#include "fields.def"
};

const cm_expert_info cm_expert_table[CM_E_COUNT] = {
#define CM_EXPERT(id, abbrev, group, severity, summary) {abbrev, CM_EXPERT_##id, summary},
#include "fields.def"
};

bool cm_field_value(const cm_result *r, cm_field_id id, int64_t *out)
{
    const uint32_t has = r->present;
    switch (id) {
    case CM_F_TSRTD:         *out = r->tsrtd_ns;       return has & CM_HAS_TSRTD;
    case CM_F_TSRTD_FRAME:   *out = r->tsrtd_frame;    return has & CM_HAS_TSRTD;
    case CM_F_TSRTD_PUREACK: *out = r->tsrtd_pureack;  return has & CM_HAS_TSRTD;
    case CM_F_SEQRTD:        *out = r->seqrtd_ns;      return has & CM_HAS_SEQRTD;
    case CM_F_SEQRTD_FRAME:  *out = r->seqrtd_frame;   return has & CM_HAS_SEQRTD;
    case CM_F_MINRTD:        *out = r->minrtd_ns;      return has & CM_HAS_MINRTD;
    case CM_F_PATHRTD:       *out = r->pathrtd_ns;     return has & CM_HAS_PATHRTD;
    case CM_F_PATHRTD_FRAME: *out = r->pathrtd_frame;  return has & CM_HAS_PATHRTD;
    case CM_F_SEQGAP:        *out = r->seqgap;         return has & CM_HAS_SEQGAP;
    case CM_F_DUPACK:        *out = r->dupack_ns;      return has & CM_HAS_DUPACK;
    case CM_F_DUPACK_NUM:    *out = r->dupack_num;     return has & CM_HAS_DUPACK;
    case CM_F_DUPACK_FRAME:  *out = r->dupack_frame;   return has & CM_HAS_DUPACK;
    case CM_F_PAYLOAD:       *out = r->payload;        return true;
    case CM_F_FLOWBYTES:     *out = (int64_t)r->flowbytes; return true;
    case CM_F_FLOW:
    case CM_F_COUNT:
        break;
    }
    return false;
}
