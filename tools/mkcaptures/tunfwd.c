/*
 * tunfwd - a tiny userspace "wire" between two TUN devices with a capture
 * point (CP) in the middle of the path.
 *
 *        A ns                 tunfwd (root ns)                 B ns
 *   [tun A] --> pre-CP stage --> CP (pcap) --> post-CP stage --> [tun B]
 *   [tun A] <-- post-CP stage <-- CP (pcap) <-- pre-CP stage <-- [tun B]
 *
 * Each direction (ab = A->B, ba = B->A) has its own impairments:
 *   delay-pre / delay-post   one-way delay before / after the CP (ms)
 *   loss-pre / loss-post     drop probability before the CP (the capture
 *                            shows a hole) / after it (the capture shows the
 *                            segment and later its retransmission)
 *   drop-pre / drop-post     explicit lists of data-segment numbers to drop
 *   reorder-pre/-post P:MS   hold a data segment back by an extra MS
 *   rate / queue / rate-at   bottleneck: serialisation at RATE bytes/s with
 *                            a tail-drop queue of QUEUE bytes, located before
 *                            or after the CP (default after)
 *
 * "Data segment" = TCP segment carrying payload.  Probabilistic loss and
 * reordering only apply to data segments (SYN/FIN/pure ACKs are never
 * impaired) so that runs stay short and comparable; the Nth data segment of
 * a direction always receives the same random decisions for a given seed.
 *
 * The pcap is classic libpcap format with nanosecond timestamps taken from
 * CLOCK_REALTIME at the moment the packet passes the CP.  All scheduling uses
 * CLOCK_MONOTONIC, a binary heap and ppoll().
 *
 * Only libc is used.  Build: cc -std=c11 -Wall -Wextra -O2 -o tunfwd tunfwd.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#define MAX_PKT 65536
#define MAX_INFLIGHT 200000 /* packets held in the heap, safety bound */
#define MAX_DROPS 256

enum { DIR_AB = 0, DIR_BA = 1 };
static const char *dir_name[2] = {"ab", "ba"};

struct dirconf {
    int64_t delay_pre_ns, delay_post_ns;
    double loss_pre, loss_post;
    double reorder_pre_p, reorder_post_p;
    int64_t reorder_pre_ns, reorder_post_ns;
    uint64_t drop_pre[MAX_DROPS], drop_post[MAX_DROPS];
    size_t n_drop_pre, n_drop_post;
    double rate;     /* bytes per second, 0 = unlimited */
    double queue;    /* bytes */
    int rate_at_pre; /* 0: bottleneck after the CP (default), 1: before */
};

struct dirstate {
    struct dirconf c;
    uint64_t rng;          /* xorshift64* state */
    uint64_t ndata;        /* data segments seen at ingress */
    int64_t link_free_ns;  /* bottleneck: time the link becomes idle */
    /* statistics */
    uint64_t rx, captured, delivered, data;
    uint64_t drop_pre, drop_post, drop_queue, drop_inflight;
    uint64_t reord_pre, reord_post;
    int64_t late_sum_ns, late_max_ns; /* CP wake-up latency vs schedule */
};

struct pkt {
    int64_t when;      /* CLOCK_MONOTONIC ns at which the next stage runs */
    uint64_t seq;      /* FIFO tie-break for equal times */
    int dir;
    int stage;         /* 0: waiting for the CP, 1: waiting for delivery */
    int drop_post;     /* decided at ingress, applied after the CP */
    int64_t reord_post_ns;
    size_t len;
    unsigned char data[];
};

/* ---------------------------------------------------------------- heap */
static struct pkt **heap;
static size_t heap_n, heap_cap;
static uint64_t heap_seq;

static int pkt_before(const struct pkt *x, const struct pkt *y)
{
    if (x->when != y->when)
        return x->when < y->when;
    return x->seq < y->seq;
}

static int heap_push(struct pkt *p)
{
    if (heap_n == heap_cap) {
        size_t nc = heap_cap ? heap_cap * 2 : 1024;
        struct pkt **nh = realloc(heap, nc * sizeof *nh);
        if (!nh)
            return -1;
        heap = nh;
        heap_cap = nc;
    }
    p->seq = heap_seq++;
    size_t i = heap_n++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!pkt_before(p, heap[parent]))
            break;
        heap[i] = heap[parent];
        i = parent;
    }
    heap[i] = p;
    return 0;
}

static struct pkt *heap_pop(void)
{
    struct pkt *top = heap[0];
    struct pkt *last = heap[--heap_n];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        const struct pkt *best = last;
        if (l < heap_n && pkt_before(heap[l], best)) {
            m = l;
            best = heap[l];
        }
        if (r < heap_n && pkt_before(heap[r], best))
            m = r;
        if (m == i)
            break;
        heap[i] = heap[m];
        i = m;
    }
    if (heap_n)
        heap[i] = last;
    return top;
}

/* ---------------------------------------------------------------- misc */
static volatile sig_atomic_t stop_flag;
static void on_signal(int sig) { (void)sig; stop_flag = 1; }

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* xorshift64* - small, deterministic, good enough for loss decisions */
static double rng_uniform(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return (double)((x * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0;
}

static int in_list(const uint64_t *l, size_t n, uint64_t v)
{
    for (size_t i = 0; i < n; i++)
        if (l[i] == v)
            return 1;
    return 0;
}

/* Returns the TCP payload length of an IPv4/IPv6 packet, or -1 if the
 * packet is not (the first fragment of) a TCP segment. */
static long tcp_payload_len(const unsigned char *p, size_t len)
{
    if (len < 1)
        return -1;
    size_t off, iplen;
    int proto;
    if ((p[0] >> 4) == 4) {
        if (len < 20)
            return -1;
        off = (size_t)(p[0] & 0x0f) * 4;
        iplen = (size_t)p[2] << 8 | p[3];
        if ((((size_t)p[6] & 0x1f) << 8 | p[7]) != 0) /* non-first fragment */
            return -1;
        proto = p[9];
    } else if ((p[0] >> 4) == 6) {
        if (len < 40)
            return -1;
        iplen = 40 + ((size_t)p[4] << 8 | p[5]);
        proto = p[6];
        off = 40;
        /* walk the common extension headers */
        while (proto == 0 || proto == 43 || proto == 60 || proto == 44) {
            if (off + 8 > len)
                return -1;
            int next = p[off];
            if (proto == 44) {
                if ((((size_t)p[off + 2] << 8 | p[off + 3]) & 0xfff8) != 0)
                    return -1;
                off += 8;
            } else {
                off += ((size_t)p[off + 1] + 1) * 8;
            }
            proto = next;
        }
    } else {
        return -1;
    }
    if (proto != 6 || iplen > len || off + 20 > iplen)
        return -1;
    size_t thl = (size_t)(p[off + 12] >> 4) * 4;
    if (off + thl > iplen)
        return -1;
    return (long)(iplen - off - thl);
}

/* ---------------------------------------------------------------- pcap */
static FILE *pcap;
static unsigned snaplen = 65535;
static int link_eth = 1; /* 1: Ethernet (LINKTYPE 1), 0: raw IP (101) */

static void put32(unsigned char *b, uint32_t v) { memcpy(b, &v, 4); }
static void put16(unsigned char *b, uint16_t v) { memcpy(b, &v, 2); }

static int pcap_open(const char *path)
{
    pcap = fopen(path, "wb");
    if (!pcap)
        return -1;
    unsigned char h[24];
    put32(h, 0xa1b23c4d); /* nanosecond-resolution magic, host order */
    put16(h + 4, 2);
    put16(h + 6, 4);
    put32(h + 8, 0);  /* thiszone */
    put32(h + 12, 0); /* sigfigs */
    put32(h + 16, snaplen);
    put32(h + 20, link_eth ? 1 : 101);
    return fwrite(h, sizeof h, 1, pcap) == 1 ? 0 : -1;
}

static void pcap_write(const struct pkt *p)
{
    static const unsigned char mac_a[6] = {0x02, 0xc0, 0x00, 0x00, 0x00, 0x0a};
    static const unsigned char mac_b[6] = {0x02, 0xc0, 0x00, 0x00, 0x00, 0x0b};
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);

    unsigned char eth[14];
    size_t l2 = 0;
    if (link_eth) {
        memcpy(eth, p->dir == DIR_AB ? mac_b : mac_a, 6); /* destination */
        memcpy(eth + 6, p->dir == DIR_AB ? mac_a : mac_b, 6);
        int v6 = p->len > 0 && (p->data[0] >> 4) == 6;
        eth[12] = v6 ? 0x86 : 0x08;
        eth[13] = v6 ? 0xdd : 0x00;
        l2 = sizeof eth;
    }
    size_t orig = l2 + p->len;
    size_t cap = orig < snaplen ? orig : snaplen;
    unsigned char rh[16];
    put32(rh, (uint32_t)ts.tv_sec);
    put32(rh + 4, (uint32_t)ts.tv_nsec);
    put32(rh + 8, (uint32_t)cap);
    put32(rh + 12, (uint32_t)orig);
    fwrite(rh, sizeof rh, 1, pcap);
    size_t from_l2 = cap < l2 ? cap : l2;
    if (from_l2)
        fwrite(eth, from_l2, 1, pcap);
    if (cap > l2)
        fwrite(p->data, cap - l2, 1, pcap);
}

/* ---------------------------------------------------------------- path */
static struct dirstate ds[2];
static int tunfd[2]; /* [0] = A side, [1] = B side */
static int verbose;

/* Bottleneck: FIFO serialisation at c.rate.  Returns the time the packet
 * has left the link, or -1 if the queue (measured as the backlog still to
 * be serialised) would overflow -> tail drop. */
static int64_t bottleneck(struct dirstate *d, int64_t t, size_t len)
{
    int64_t start = d->link_free_ns > t ? d->link_free_ns : t;
    double backlog = (double)(start - t) * d->c.rate / 1e9;
    if (backlog + (double)len > d->c.queue)
        return -1;
    d->link_free_ns = start + (int64_t)((double)len * 1e9 / d->c.rate);
    return d->link_free_ns;
}

static void ingress(int dir, const unsigned char *buf, size_t len, int64_t now)
{
    struct dirstate *d = &ds[dir];
    d->rx++;
    int is_data = tcp_payload_len(buf, len) > 0;
    int drop_pre = 0;
    int64_t extra_pre = 0;
    int drop_post = 0;
    int64_t extra_post = 0;

    if (is_data) {
        uint64_t idx = ++d->ndata;
        d->data++;
        /* always draw four numbers so decision k only depends on k */
        double u1 = rng_uniform(&d->rng), u2 = rng_uniform(&d->rng);
        double u3 = rng_uniform(&d->rng), u4 = rng_uniform(&d->rng);
        drop_pre = u1 < d->c.loss_pre || in_list(d->c.drop_pre, d->c.n_drop_pre, idx);
        drop_post = u2 < d->c.loss_post || in_list(d->c.drop_post, d->c.n_drop_post, idx);
        if (u3 < d->c.reorder_pre_p) {
            extra_pre = d->c.reorder_pre_ns;
            d->reord_pre++;
        }
        if (u4 < d->c.reorder_post_p)
            extra_post = d->c.reorder_post_ns;
        if (verbose > 1 && (drop_pre || drop_post))
            fprintf(stderr, "%s data #%llu drop %s\n", dir_name[dir],
                    (unsigned long long)idx, drop_pre ? "pre" : "post");
    }
    if (drop_pre) {
        d->drop_pre++;
        return;
    }
    int64_t t = now;
    if (d->c.rate > 0 && d->c.rate_at_pre) {
        t = bottleneck(d, t, len);
        if (t < 0) {
            d->drop_queue++;
            return;
        }
    }
    if (heap_n >= MAX_INFLIGHT) {
        d->drop_inflight++;
        return;
    }
    struct pkt *p = malloc(sizeof *p + len);
    if (!p) {
        d->drop_inflight++;
        return;
    }
    memcpy(p->data, buf, len);
    p->len = len;
    p->dir = dir;
    p->stage = 0;
    p->drop_post = drop_post;
    p->reord_post_ns = extra_post;
    p->when = t + d->c.delay_pre_ns + extra_pre;
    if (heap_push(p) < 0) {
        free(p);
        d->drop_inflight++;
    }
}

static void run_stage(struct pkt *p)
{
    struct dirstate *d = &ds[p->dir];
    if (p->stage == 0) {
        int64_t late = mono_ns() - p->when;
        d->late_sum_ns += late;
        if (late > d->late_max_ns)
            d->late_max_ns = late;
        pcap_write(p);
        d->captured++;
        if (p->drop_post) {
            d->drop_post++;
            free(p);
            return;
        }
        /* continue from the ideal schedule time so wake-up latency does
         * not accumulate along the path */
        int64_t t = p->when;
        if (d->c.rate > 0 && !d->c.rate_at_pre) {
            t = bottleneck(d, t, p->len);
            if (t < 0) {
                d->drop_queue++;
                free(p);
                return;
            }
        }
        if (p->reord_post_ns)
            d->reord_post++;
        p->when = t + d->c.delay_post_ns + p->reord_post_ns;
        p->stage = 1;
        if (heap_push(p) < 0) {
            d->drop_inflight++;
            free(p);
        }
        return;
    }
    /* delivery: A->B goes out on B's tun and vice versa.  Errors (device
     * down, namespace being torn down) are ignored: it's a lossy wire. */
    int fd = tunfd[p->dir == DIR_AB ? 1 : 0];
    if (write(fd, p->data, p->len) == (ssize_t)p->len)
        d->delivered++;
    free(p);
}

/* ---------------------------------------------------------------- setup */
static int tun_open(const char *name)
{
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        perror("open /dev/net/tun");
        return -1;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        fprintf(stderr, "TUNSETIFF %s: %s\n", name, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static int parse_ms(const char *s, int64_t *out)
{
    char *e;
    double v = strtod(s, &e);
    if (e == s || *e || v < 0)
        return -1;
    *out = (int64_t)(v * 1e6);
    return 0;
}

static int parse_prob(const char *s, double *out)
{
    char *e;
    double v = strtod(s, &e);
    if (e == s || *e || v < 0 || v > 1)
        return -1;
    *out = v;
    return 0;
}

static int parse_list(const char *s, uint64_t *l, size_t *n)
{
    while (*s) {
        char *e;
        unsigned long long v = strtoull(s, &e, 10);
        if (e == s || *n >= MAX_DROPS || v == 0)
            return -1;
        l[(*n)++] = v;
        if (*e == ',' || *e == ':')
            e++;
        else if (*e)
            return -1;
        s = e;
    }
    return 0;
}

static int parse_reorder(const char *s, double *p, int64_t *ns)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%s", s);
    char *colon = strchr(buf, ':');
    if (!colon)
        return -1;
    *colon = 0;
    return parse_prob(buf, p) < 0 || parse_ms(colon + 1, ns) < 0 ? -1 : 0;
}

static int parse_kv(struct dirconf *c, const char *kv)
{
    const char *eq = strchr(kv, '=');
    if (!eq)
        return -1;
    size_t kl = (size_t)(eq - kv);
    const char *v = eq + 1;
#define KEY(k) (kl == strlen(k) && strncmp(kv, k, kl) == 0)
    if (KEY("delay-pre"))
        return parse_ms(v, &c->delay_pre_ns);
    if (KEY("delay-post"))
        return parse_ms(v, &c->delay_post_ns);
    if (KEY("loss-pre"))
        return parse_prob(v, &c->loss_pre);
    if (KEY("loss-post"))
        return parse_prob(v, &c->loss_post);
    if (KEY("drop-pre"))
        return parse_list(v, c->drop_pre, &c->n_drop_pre);
    if (KEY("drop-post"))
        return parse_list(v, c->drop_post, &c->n_drop_post);
    if (KEY("reorder-pre"))
        return parse_reorder(v, &c->reorder_pre_p, &c->reorder_pre_ns);
    if (KEY("reorder-post"))
        return parse_reorder(v, &c->reorder_post_p, &c->reorder_post_ns);
    if (KEY("rate") || KEY("queue")) {
        char *e;
        double d = strtod(v, &e);
        if (e == v || *e || d <= 0)
            return -1;
        *(KEY("rate") ? &c->rate : &c->queue) = d;
        return 0;
    }
    if (KEY("rate-at")) {
        if (strcmp(v, "pre") == 0)
            c->rate_at_pre = 1;
        else if (strcmp(v, "post") == 0)
            c->rate_at_pre = 0;
        else
            return -1;
        return 0;
    }
#undef KEY
    return -1;
}

static void usage(void)
{
    fprintf(stderr,
        "usage: tunfwd -a TUN_A -b TUN_B -w FILE.pcap [options]\n"
        "  -s SNAPLEN        bytes stored per packet (default 65535)\n"
        "  -l eth|raw        link type: Ethernet with synthetic MACs (default)\n"
        "                    or LINKTYPE_RAW\n"
        "  -S SEED           PRNG seed (default 1)\n"
        "  -r FILE           create FILE once both TUN devices exist\n"
        "  -v                print statistics on exit (-vv: every drop)\n"
        "  --delay-a MS      A<->CP one-way delay (= --ab delay-pre, --ba delay-post)\n"
        "  --delay-b MS      CP<->B one-way delay (= --ab delay-post, --ba delay-pre)\n"
        "  --ab KEY=VAL      impairment for A->B, repeatable; --ba for B->A\n"
        "     delay-pre=MS delay-post=MS loss-pre=P loss-post=P\n"
        "     drop-pre=N,N.. drop-post=N,N..   (Nth data segment, 1-based)\n"
        "     reorder-pre=P:MS reorder-post=P:MS\n"
        "     rate=BYTES/S queue=BYTES rate-at=pre|post (default post)\n");
}

int main(int argc, char **argv)
{
    const char *name[2] = {NULL, NULL}, *out = NULL, *ready = NULL;
    uint64_t seed = 1;
    static const struct option lo[] = {
        {"ab", required_argument, NULL, 'A'},
        {"ba", required_argument, NULL, 'B'},
        {"delay-a", required_argument, NULL, 'x'},
        {"delay-b", required_argument, NULL, 'y'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int o;
    int64_t ns;
    while ((o = getopt_long(argc, argv, "a:b:w:s:l:S:r:vh", lo, NULL)) != -1) {
        switch (o) {
        case 'a': name[0] = optarg; break;
        case 'b': name[1] = optarg; break;
        case 'w': out = optarg; break;
        case 'r': ready = optarg; break;
        case 'v': verbose++; break;
        case 's': snaplen = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'S': seed = strtoull(optarg, NULL, 0); break;
        case 'l':
            if (strcmp(optarg, "eth") == 0)
                link_eth = 1;
            else if (strcmp(optarg, "raw") == 0)
                link_eth = 0;
            else {
                usage();
                return 2;
            }
            break;
        case 'A':
        case 'B':
            if (parse_kv(&ds[o == 'A' ? DIR_AB : DIR_BA].c, optarg) < 0) {
                fprintf(stderr, "bad impairment '%s'\n", optarg);
                return 2;
            }
            break;
        case 'x':
        case 'y':
            if (parse_ms(optarg, &ns) < 0) {
                fprintf(stderr, "bad delay '%s'\n", optarg);
                return 2;
            }
            if (o == 'x') {
                ds[DIR_AB].c.delay_pre_ns = ns;
                ds[DIR_BA].c.delay_post_ns = ns;
            } else {
                ds[DIR_AB].c.delay_post_ns = ns;
                ds[DIR_BA].c.delay_pre_ns = ns;
            }
            break;
        case 'h': usage(); return 0;
        default: usage(); return 2;
        }
    }
    if (!name[0] || !name[1] || !out || snaplen < 16) {
        usage();
        return 2;
    }
    for (int d = 0; d < 2; d++) {
        if (ds[d].c.rate > 0 && ds[d].c.queue <= 0)
            ds[d].c.queue = 64 * 1024;
        /* distinct, non-zero stream per direction */
        ds[d].rng = (seed ^ (0x9E3779B97F4A7C15ULL * ((uint64_t)d + 1))) | 1;
    }

    /* Block the stop signals; ppoll() unblocks them atomically while
     * waiting, so a signal can never slip in between check and sleep. */
    sigset_t block, waitmask;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigprocmask(SIG_BLOCK, &block, &waitmask);
    sigdelset(&waitmask, SIGTERM);
    sigdelset(&waitmask, SIGINT);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    /* 1 us timer slack instead of the default 50 us: delays stay precise */
    prctl(PR_SET_TIMERSLACK, 1000UL, 0UL, 0UL, 0UL);
    /* if the driving script is SIGKILLed, stop (and flush) too */
    prctl(PR_SET_PDEATHSIG, (unsigned long)SIGTERM, 0UL, 0UL, 0UL);

    for (int i = 0; i < 2; i++)
        if ((tunfd[i] = tun_open(name[i])) < 0)
            return 1;
    if (pcap_open(out) < 0) {
        perror(out);
        return 1;
    }
    if (ready) {
        FILE *f = fopen(ready, "w");
        if (f)
            fclose(f);
    }

    static unsigned char buf[MAX_PKT];
    struct pollfd pfd[2] = {{.fd = tunfd[0], .events = POLLIN},
                            {.fd = tunfd[1], .events = POLLIN}};
    while (!stop_flag) {
        int64_t now = mono_ns();
        while (heap_n && heap[0]->when <= now) {
            run_stage(heap_pop());
            now = mono_ns();
        }
        struct timespec ts, *tsp = NULL;
        if (heap_n) {
            int64_t wait = heap[0]->when - now;
            ts.tv_sec = (time_t)(wait / 1000000000LL);
            ts.tv_nsec = (long)(wait % 1000000000LL);
            tsp = &ts;
        }
        int n = ppoll(pfd, 2, tsp, &waitmask);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            perror("ppoll");
            break;
        }
        now = mono_ns();
        for (int i = 0; i < 2; i++) {
            if (!(pfd[i].revents & POLLIN))
                continue;
            /* bounded burst per side so one direction can't starve the other */
            for (int k = 0; k < 64; k++) {
                ssize_t r = read(tunfd[i], buf, sizeof buf);
                if (r <= 0)
                    break;
                ingress(i == 0 ? DIR_AB : DIR_BA, buf, (size_t)r, now);
            }
        }
    }

    fflush(pcap);
    fclose(pcap);
    if (verbose) {
        for (int d = 0; d < 2; d++) {
            struct dirstate *s = &ds[d];
            fprintf(stderr,
                    "tunfwd %s: rx %llu data %llu captured %llu delivered %llu "
                    "drop-pre %llu drop-post %llu drop-queue %llu "
                    "drop-inflight %llu reorder-pre %llu reorder-post %llu "
                    "cp-late avg %.1f us max %.1f us\n",
                    dir_name[d], (unsigned long long)s->rx,
                    (unsigned long long)s->data, (unsigned long long)s->captured,
                    (unsigned long long)s->delivered,
                    (unsigned long long)s->drop_pre,
                    (unsigned long long)s->drop_post,
                    (unsigned long long)s->drop_queue,
                    (unsigned long long)s->drop_inflight,
                    (unsigned long long)s->reord_pre,
                    (unsigned long long)s->reord_post,
                    s->captured ? (double)s->late_sum_ns / 1e3 / (double)s->captured : 0.0,
                    (double)s->late_max_ns / 1e3);
        }
    }
    while (heap_n)
        free(heap_pop());
    free(heap);
    close(tunfd[0]);
    close(tunfd[1]);
    return 0;
}
