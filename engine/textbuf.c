/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "textbuf.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

void cm_text_put(cm_textbuf *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = w->len < w->size ? w->size - w->len : 0;
    int n = vsnprintf(room ? w->buf + w->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        w->len += (size_t)n;
}

void cm_text_put_seconds(cm_textbuf *w, int64_t ns)
{
    uint64_t m = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;
    cm_text_put(w, "%s%" PRIu64 ".%09" PRIu64, ns < 0 ? "-" : "", m / 1000000000u,
                m % 1000000000u);
}
