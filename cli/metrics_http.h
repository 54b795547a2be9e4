/* The --metrics HTTP endpoint: serves the latest published Prometheus text
 * at /metrics from a libmicrohttpd thread, so packet processing never
 * waits for a client.
 *
 * The packet thread formats the text (engine/metrics.h) and publishes it
 * (metrics_http_publish); the server thread only copies the latest text
 * under a mutex.  A request for /metrics raises a flag
 * (metrics_http_wanted) and waits up to 200 ms for a fresher text, so a
 * scrape normally sees every packet counted so far; after that it serves
 * what it has.
 *
 * Built without libmicrohttpd, metrics_http_start fails with a message
 * saying so.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CONNMON_METRICS_HTTP_H
#define CONNMON_METRICS_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct metrics_http metrics_http;

/* Parses "[ADDR:]PORT" ("9100", "127.0.0.1:9100", "[::1]:9100", ":9100";
 * PORT 0 picks a free port).  Returns NULL on success or a static message. */
const char *metrics_http_parse_listen(const char *text, char *host, size_t host_size,
                                      unsigned *port);

/* Starts serving on "[ADDR:]PORT" (no ADDR: every address, IPv6 and IPv4);
 * /metrics is empty until the first publish.  Returns NULL and
 * a message in err when the address is bad or cannot be bound, or when
 * built without libmicrohttpd. */
metrics_http *metrics_http_start(const char *listen, char *err, size_t err_size);

/* Stops the server thread and frees everything. */
void metrics_http_stop(metrics_http *h);

/* The port actually bound (for PORT 0) and the URL to show in the log. */
unsigned metrics_http_port(const metrics_http *h);
const char *metrics_http_url(const metrics_http *h);

/* Replaces the served text with text[0..len) (the server takes ownership
 * of the malloc'ed buffer) and wakes requests waiting for it. */
void metrics_http_publish(metrics_http *h, char *text, size_t len);

/* A request is waiting for a fresher text.  Cheap: one relaxed atomic
 * load, for the packet thread to check often. */
bool metrics_http_wanted(const metrics_http *h);

/* Requests served so far. */
uint64_t metrics_http_requests(const metrics_http *h);

/* Built with libmicrohttpd. */
bool metrics_http_available(void);

#endif
