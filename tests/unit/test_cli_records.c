/* Unit tests of the command line's per-connection records (cli/records.c,
 * --flows) with its connection numbering (cli/conntrack.c): a record is
 * written when its connection is forgotten (idle, port pair reused), the
 * rest at the end in first-frame order.
 */
#define _POSIX_C_SOURCE 200809L /* open_memstream */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "connmon.h"
#include "conntrack.h"
#include "records.h"

#define MS(x) ((int64_t)(x) * 1000000)

enum { S = CM_TH_SYN, A = CM_TH_ACK };

static cm_engine *eng;
static conntrack *ct;
static records *rs;
static char *buf;
static size_t buf_len;
static FILE *out;
static uint32_t next_frame;

static void forgotten(uint32_t stream, void *arg)
{
    records_forget((records *)arg, stream);
}

static void start(int64_t max_idle_ns)
{
    cm_config cfg;
    cm_config_default(&cfg);
    eng = cm_engine_new(&cfg);
    ct = conntrack_new(eng, max_idle_ns, 0);
    out = open_memstream(&buf, &buf_len);
    rs = records_new(out, true);
    CHECK(eng && ct && out && rs);
    conntrack_on_forget(ct, forgotten, rs);
    next_frame = 1;
}

static void stop(void)
{
    records_free(rs);
    conntrack_free(ct);
    cm_engine_free(eng);
    fclose(out);
    free(buf);
    rs = NULL, ct = NULL, eng = NULL, out = NULL, buf = NULL;
}

/* One packet of the connection client 10.0.0.<client>:<cport> <-> 10.0.0.2:80. */
static void feed(int side, int64_t t, uint16_t fl, uint32_t seq, uint32_t ack, uint8_t client,
                 uint16_t cport)
{
    cm_packet p;
    memset(&p, 0, sizeof p);
    p.t_ns = t;
    p.frame = next_frame++;
    cm_addr c = {.family = 4}, s = c;
    c.bytes[0] = s.bytes[0] = 10;
    c.bytes[3] = client;
    s.bytes[3] = 2;
    p.src = side ? s : c;
    p.dst = side ? c : s;
    p.sport = side ? 80 : cport;
    p.dport = side ? cport : 80;
    p.flags = fl;
    p.seq = seq;
    p.ack = ack;
    p.window = 1000;
    conn *cn;
    cm_result r;
    CHECK(conntrack_assign(ct, &p, &cn));
    CHECK(cm_engine_analyse(eng, &p, &r));
    CHECK(records_add(rs, &p, &r));
}

/* The lines written so far. */
static int lines(char out_lines[][1024], int max)
{
    fflush(out);
    int n = 0;
    const char *p = buf;
    while (p && *p && n < max) {
        const char *nl = strchr(p, '\n');
        CHECK(nl != NULL);
        if (!nl)
            break;
        size_t len = (size_t)(nl - p) < 1023 ? (size_t)(nl - p) : 1023;
        memcpy(out_lines[n], p, len);
        out_lines[n][len] = '\0';
        n++;
        p = nl + 1;
    }
    return n;
}

static bool starts(const char *line, const char *prefix)
{
    return strncmp(line, prefix, strlen(prefix)) == 0;
}

static void test_end_of_input_in_first_frame_order(void)
{
    static char l[8][1024];
    start(0);
    feed(0, MS(0), S, 100, 0, 3, 40000);     /* frame 1: connection A */
    feed(0, MS(1), S, 200, 0, 1, 40001);     /* frame 2: connection B */
    feed(1, MS(10), S | A, 900, 201, 1, 40001);
    feed(1, MS(11), S | A, 800, 101, 3, 40000);
    CHECK_EQ_I64(lines(l, 8), 0);            /* nothing forgotten yet */
    records_finish(rs);
    CHECK_EQ_I64(lines(l, 8), 2);
    CHECK(starts(l[0], "{\"first_frame\":1,\"last_frame\":4,"));
    CHECK(starts(l[1], "{\"first_frame\":2,\"last_frame\":3,"));
    CHECK(strstr(l[0], "\"a\":{\"flow\":\"10.0.0.3:40000+10.0.0.2:80\",\"packets\":1,") != NULL);
    CHECK(strstr(l[0], "\"b\":{\"flow\":\"10.0.0.2:80+10.0.0.3:40000\",\"packets\":1,") != NULL);
    /* the SYN-ACK answers the SYN 11 ms later: b's only half */
    CHECK(strstr(l[0], "\"half\":{\"count\":1,\"min\":0.011000000,\"mean\":0.011000000,") != NULL);
    records_stats rst = records_get_stats(rs);
    CHECK_EQ_I64(rst.written, 2);
    CHECK_EQ_I64(rst.samples_lost, 0);
    records_finish(rs); /* nothing left */
    CHECK_EQ_I64(lines(l, 8), 2);
    stop();
}

/* A connection idle longer than the limit is forgotten: its record comes
 * out then, and its next packet starts a new record. */
static void test_idle_connection_written_when_forgotten(void)
{
    static char l[8][1024];
    start(MS(100));
    feed(0, MS(0), S, 100, 0, 1, 40000);             /* 1 */
    feed(1, MS(10), S | A, 900, 101, 1, 40000);      /* 2 */
    feed(0, MS(20), A, 101, 901, 1, 40000);          /* 3 */
    feed(0, MS(50), S, 500, 0, 4, 41000);            /* 4: another connection */
    conntrack_expire(ct, MS(121));                   /* the first is idle */
    CHECK_EQ_I64(lines(l, 8), 1);
    CHECK(starts(l[0], "{\"first_frame\":1,\"last_frame\":3,"));
    feed(0, MS(300), A, 101, 901, 1, 40000);         /* 5: a new connection */
    records_finish(rs);
    CHECK_EQ_I64(lines(l, 8), 3);
    CHECK(starts(l[1], "{\"first_frame\":4,\"last_frame\":4,"));
    CHECK(starts(l[2], "{\"first_frame\":5,\"last_frame\":5,"));
    CHECK(strstr(l[1], "\"b\":") == NULL);           /* one-directional */
    stop();
}

/* A SYN with a new ISN on the same port pair starts a new connection:
 * the old one's record is written then. */
static void test_port_reuse_writes_the_old_record(void)
{
    static char l[8][1024];
    start(0);
    feed(0, MS(0), S, 100, 0, 1, 40000);
    feed(1, MS(10), S | A, 900, 101, 1, 40000);
    feed(0, MS(500), S, 7000, 0, 1, 40000);          /* 3: reused */
    CHECK_EQ_I64(lines(l, 8), 1);
    CHECK(starts(l[0], "{\"first_frame\":1,\"last_frame\":2,"));
    records_finish(rs);
    CHECK_EQ_I64(lines(l, 8), 2);
    CHECK(starts(l[1], "{\"first_frame\":3,\"last_frame\":3,"));
    stop();
}

int main(void)
{
    RUN(test_end_of_input_in_first_frame_order);
    RUN(test_idle_connection_written_when_forgotten);
    RUN(test_port_reuse_writes_the_old_record);
    return check_summary("test_cli_records");
}
