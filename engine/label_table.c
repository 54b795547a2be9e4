/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "label_table.h"

#include <string.h>

/* Index values: position + 1 in the low 31 bits, this bit for "the
 * reverse of the label at that position".  The text arena stays far
 * below 2 GB (a label per flow). */
#define CM_LABEL_REVERSED 0x80000000u
#define MAX_STREAM 0x7fffffffu

/* "A+B" -> "B+A" into out (CM_FLOW_LABEL_MAX bytes); addresses and ports
 * never contain '+', so the first one separates the two ends. */
static void reverse_label(const char *s, char *out)
{
    const char *plus = strchr(s, '+');
    if (!plus) {
        strcpy(out, s);
        return;
    }
    size_t a = (size_t)(plus - s), b = strlen(plus + 1);
    memcpy(out, plus + 1, b);
    out[b] = '+';
    memcpy(out + b + 1, s, a);
    out[a + b + 1] = '\0';
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
    char label[CM_FLOW_LABEL_MAX];
    size_t n = cm_format_flow(label, sizeof label, pkt);

    uint32_t other = cm_u32_index_get(&t->index, key ^ 1);
    if (other && !(other & CM_LABEL_REVERSED)) {
        char rev[CM_FLOW_LABEL_MAX];
        reverse_label((const char *)cm_arena_at(&t->text, other - 1), rev);
        if (strcmp(rev, label) == 0)
            return cm_u32_index_set(&t->index, key, other | CM_LABEL_REVERSED) ||
                   note_failed(t);
    }
    uint32_t pos;
    uint8_t *dst = cm_arena_alloc(&t->text, n + 1, &pos);
    if (!dst || pos + 1 >= CM_LABEL_REVERSED)
        return note_failed(t);
    memcpy(dst, label, n + 1);
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
    const char *s = (const char *)cm_arena_at(&t->text, (v & ~CM_LABEL_REVERSED) - 1);
    if (!(v & CM_LABEL_REVERSED))
        return s;
    reverse_label(s, buf);
    return buf;
}

size_t cm_label_table_memory(const cm_label_table *t)
{
    return cm_u32_index_memory(&t->index) + cm_arena_memory(&t->text);
}

void cm_label_table_free(cm_label_table *t)
{
    cm_u32_index_free(&t->index);
    cm_arena_free(&t->text);
    memset(t, 0, sizeof *t);
}
