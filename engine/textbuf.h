/* One text writer for the engine's formatters (aggregate JSON, records,
 * Prometheus text): snprintf into a fixed buffer that keeps counting past
 * its end, so a caller learns the size it needed.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CONNMON_TEXTBUF_H
#define CONNMON_TEXTBUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct cm_textbuf {
    char *buf;
    size_t size, len;  /* len may exceed size: the length wanted */
} cm_textbuf;

void cm_text_put(cm_textbuf *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ns as seconds with 9 decimals, exact (no floating point). */
void cm_text_put_seconds(cm_textbuf *w, int64_t ns);

#endif
