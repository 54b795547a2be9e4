/* The --metrics HTTP endpoint over libmicrohttpd: see metrics_http.h.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define _GNU_SOURCE
#include "metrics_http.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *metrics_http_parse_listen(const char *text, char *host, size_t host_size,
                                      unsigned *port)
{
    const char *p = text;
    host[0] = '\0';
    const char *colon = strrchr(text, ':');
    if (text[0] == '[') { /* [IPv6]:PORT */
        const char *close = strchr(text, ']');
        if (!close || close[1] != ':')
            return "is not [ADDR]:PORT";
        size_t n = (size_t)(close - text - 1);
        if (n == 0 || n >= host_size)
            return "has no usable address between [ and ]";
        memcpy(host, text + 1, n);
        host[n] = '\0';
        p = close + 2;
    } else if (colon) {
        if (strchr(text, ':') != colon)
            return "has an IPv6 address without brackets: write [ADDR]:PORT";
        size_t n = (size_t)(colon - text);
        if (n >= host_size)
            return "has too long an address";
        memcpy(host, text, n);
        host[n] = '\0';
        p = colon + 1;
    }
    unsigned v = 0;
    size_t i = 0;
    for (; p[i] >= '0' && p[i] <= '9' && v <= 65535; i++)
        v = v * 10 + (unsigned)(p[i] - '0');
    if (i == 0 || p[i] != '\0' || v > 65535)
        return "has no port from 0 to 65535";
    *port = v;
    return NULL;
}

#ifndef CONNMON_HAVE_MHD

struct metrics_http { int unused; };

metrics_http *metrics_http_start(const char *listen, char *err, size_t err_size)
{
    (void)listen;
    snprintf(err, err_size, "this connmon was built without libmicrohttpd "
                            "(install libmicrohttpd-dev and build again)");
    return NULL;
}
void metrics_http_stop(metrics_http *h) { (void)h; }
unsigned metrics_http_port(const metrics_http *h) { (void)h; return 0; }
const char *metrics_http_url(const metrics_http *h) { (void)h; return ""; }
void metrics_http_publish(metrics_http *h, char *text, size_t len) { (void)h; (void)len; free(text); }
bool metrics_http_wanted(const metrics_http *h) { (void)h; return false; }
uint64_t metrics_http_requests(const metrics_http *h) { (void)h; return 0; }
bool metrics_http_available(void) { return false; }

#else

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>

#if MHD_VERSION >= 0x00097002
typedef enum MHD_Result mhd_result;
#else
typedef int mhd_result;
#endif

#define FRESH_WAIT_NS 200000000L /* how long a request waits for a fresher text */
#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct metrics_http {
    struct MHD_Daemon *daemon;
    pthread_mutex_t mu;
    pthread_cond_t fresh;    /* signalled on every publish */
    char *text;              /* the latest text, under mu */
    size_t len;
    uint64_t generation;     /* publishes so far, under mu */
    bool stopping;           /* under mu */
    atomic_int want;         /* a request waits for a fresher text */
    atomic_uint_fast64_t requests;
    unsigned port;
    char url[192];
    bool started;            /* after start: log libmicrohttpd's errors */
    char start_error[256];   /* before: keep its last one for the message */
};

bool metrics_http_available(void)
{
    return true;
}

/* A copy of the latest text, after waiting up to FRESH_WAIT_NS for the
 * packet thread to publish a fresher one. */
static char *fresh_copy(metrics_http *h, size_t *len)
{
    struct timespec until;
#ifdef __APPLE__
    clock_gettime(CLOCK_REALTIME, &until);
#else
    clock_gettime(CLOCK_MONOTONIC, &until);
#endif
    until.tv_nsec += FRESH_WAIT_NS;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&h->mu);
    uint64_t seen = h->generation;
    atomic_store_explicit(&h->want, 1, memory_order_relaxed);
    while (h->generation == seen && !h->stopping)
        if (pthread_cond_timedwait(&h->fresh, &h->mu, &until) != 0)
            break; /* timed out: serve what there is */
    char *copy = malloc(h->len ? h->len : 1);
    if (copy)
        memcpy(copy, h->text, h->len);
    *len = h->len;
    pthread_mutex_unlock(&h->mu);
    return copy;
}

static mhd_result reply(struct MHD_Connection *c, unsigned status, const char *type, char *body,
                        size_t len, bool owned)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        len, body, owned ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!r) {
        if (owned)
            free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    mhd_result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static mhd_result on_request(void *cls, struct MHD_Connection *c, const char *url,
                             const char *method, const char *version, const char *upload,
                             size_t *upload_size, void **con_cls)
{
    (void)version;
    (void)upload;
    (void)con_cls;
    metrics_http *h = cls;
    static char not_allowed[] = "only GET and HEAD\n";
    static char index[] = "connmon: Prometheus metrics at /metrics\n";
    static char not_found[] = "not found: the metrics are at /metrics\n";
    if (*upload_size) { /* a body: not expected, ignore it */
        *upload_size = 0;
        return MHD_YES;
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", not_allowed,
                     sizeof not_allowed - 1, false);
    if (strcmp(url, "/metrics") == 0) {
        atomic_fetch_add_explicit(&h->requests, 1, memory_order_relaxed);
        size_t len;
        char *text = fresh_copy(h, &len);
        if (!text)
            return MHD_NO;
        return reply(c, MHD_HTTP_OK, CONTENT_TYPE, text, len, true);
    }
    if (strcmp(url, "/") == 0)
        return reply(c, MHD_HTTP_OK, "text/plain", index, sizeof index - 1, false);
    return reply(c, MHD_HTTP_NOT_FOUND, "text/plain", not_found, sizeof not_found - 1, false);
}

/* The listening address from "[ADDR:]PORT"; no ADDR: every address. */
static bool resolve(const char *host, unsigned port, struct sockaddr_storage *sa,
                    socklen_t *salen, char *err, size_t err_size)
{
    struct addrinfo hints, *ai;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    char service[8];
    snprintf(service, sizeof service, "%u", port);
    int rc = getaddrinfo(host, service, &hints, &ai);
    if (rc != 0) {
        snprintf(err, err_size, "cannot resolve \"%s\": %s", host, gai_strerror(rc));
        return false;
    }
    memcpy(sa, ai->ai_addr, ai->ai_addrlen);
    *salen = ai->ai_addrlen;
    freeaddrinfo(ai);
    return true;
}

/* libmicrohttpd's error messages: one prefixed line each on stderr once
 * serving, the last one kept for the failure message while starting. */
static void on_mhd_error(void *cls, const char *fmt, va_list ap)
{
    metrics_http *h = cls;
    char line[256];
    vsnprintf(line, sizeof line, fmt, ap);
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    if (h->started)
        fprintf(stderr, "connmon: metrics: %s\n", line);
    else
        snprintf(h->start_error, sizeof h->start_error, "%s", line);
}

/* Starts the daemon with SIGINT, SIGTERM and SIGHUP blocked in its
 * thread, so they always reach the packet thread's handlers. */
static struct MHD_Daemon *start_daemon(metrics_http *h, unsigned flags, unsigned port,
                                       const struct sockaddr *sa)
{
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    struct MHD_Daemon *d;
    if (sa)
        d = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, on_request, h,
                             MHD_OPTION_EXTERNAL_LOGGER, on_mhd_error, h,
                             MHD_OPTION_SOCK_ADDR, sa, MHD_OPTION_CONNECTION_LIMIT, 64u,
                             MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
    else
        d = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, on_request, h,
                             MHD_OPTION_EXTERNAL_LOGGER, on_mhd_error, h,
                             MHD_OPTION_CONNECTION_LIMIT, 64u, MHD_OPTION_CONNECTION_TIMEOUT,
                             10u, MHD_OPTION_END);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return d;
}

static unsigned bound_port(struct MHD_Daemon *d, unsigned asked)
{
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_LISTEN_FD);
    struct sockaddr_storage sa;
    socklen_t len = sizeof sa;
    if (!info || getsockname(info->listen_fd, (struct sockaddr *)&sa, &len) != 0)
        return asked;
    if (sa.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&sa)->sin6_port);
    return ntohs(((struct sockaddr_in *)&sa)->sin_port);
}

metrics_http *metrics_http_start(const char *listen, char *err, size_t err_size)
{
    char host[INET6_ADDRSTRLEN + 64];
    unsigned port;
    const char *bad = metrics_http_parse_listen(listen, host, sizeof host, &port);
    if (bad) {
        snprintf(err, err_size, "\"%s\" %s", listen, bad);
        return NULL;
    }
    metrics_http *h = calloc(1, sizeof *h);
    if (!h) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
#ifndef __APPLE__ /* macOS has no condition clock: it waits by CLOCK_REALTIME */
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
#endif
    pthread_cond_init(&h->fresh, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&h->mu, NULL);
    h->text = strdup("");

    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    if (host[0]) {
        struct sockaddr_storage sa;
        socklen_t salen;
        if (!resolve(host, port, &sa, &salen, err, err_size)) {
            metrics_http_stop(h);
            return NULL;
        }
        if (sa.ss_family == AF_INET6)
            flags |= MHD_USE_IPv6;
        h->daemon = start_daemon(h, flags, port, (const struct sockaddr *)&sa);
    } else {
        h->daemon = start_daemon(h, flags | MHD_USE_DUAL_STACK, port, NULL);
        if (!h->daemon) /* no IPv6 on this host */
            h->daemon = start_daemon(h, flags, port, NULL);
    }
    if (!h->daemon) {
        snprintf(err, err_size, "cannot listen on %s: %s", listen,
                 h->start_error[0] ? h->start_error : "port in use, or no permission");
        metrics_http_stop(h);
        return NULL;
    }
    h->started = true;
    h->port = bound_port(h->daemon, port);
    bool v6 = strchr(host, ':') != NULL;
    snprintf(h->url, sizeof h->url, "http://%s%s%s:%u/metrics", v6 ? "[" : "",
             host[0] ? host : "*", v6 ? "]" : "", h->port);
    return h;
}

void metrics_http_stop(metrics_http *h)
{
    if (!h)
        return;
    pthread_mutex_lock(&h->mu);
    h->stopping = true;
    pthread_cond_broadcast(&h->fresh);
    pthread_mutex_unlock(&h->mu);
    if (h->daemon)
        MHD_stop_daemon(h->daemon);
    pthread_cond_destroy(&h->fresh);
    pthread_mutex_destroy(&h->mu);
    free(h->text);
    free(h);
}

unsigned metrics_http_port(const metrics_http *h)
{
    return h->port;
}

const char *metrics_http_url(const metrics_http *h)
{
    return h->url;
}

void metrics_http_publish(metrics_http *h, char *text, size_t len)
{
    pthread_mutex_lock(&h->mu);
    char *old = h->text;
    h->text = text;
    h->len = len;
    h->generation++;
    atomic_store_explicit(&h->want, 0, memory_order_relaxed);
    pthread_cond_broadcast(&h->fresh);
    pthread_mutex_unlock(&h->mu);
    free(old);
}

bool metrics_http_wanted(const metrics_http *h)
{
    return atomic_load_explicit(&((metrics_http *)h)->want, memory_order_relaxed) != 0;
}

uint64_t metrics_http_requests(const metrics_http *h)
{
    return atomic_load_explicit(&((metrics_http *)h)->requests, memory_order_relaxed);
}

#endif
