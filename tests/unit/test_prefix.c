/* Address prefixes: cutting, membership, text in both directions, the
 * parser's errors, lists; random addresses against a bit-by-bit reference.
 */
#include <arpa/inet.h>
#include <string.h>

#include "check.h"
#include "prefix.h"

static cm_addr v4(const char *text)
{
    cm_addr a;
    memset(&a, 0, sizeof a);
    a.family = 4;
    CHECK(inet_pton(AF_INET, text, a.bytes) == 1);
    return a;
}

static cm_addr v6(const char *text)
{
    cm_addr a;
    memset(&a, 0, sizeof a);
    a.family = 6;
    CHECK(inet_pton(AF_INET6, text, a.bytes) == 1);
    return a;
}

static void check_text(const cm_prefix *p, const char *want)
{
    char buf[CM_PREFIX_TEXT_MAX];
    size_t n = cm_prefix_format(p, buf, sizeof buf);
    CHECK(strcmp(buf, want) == 0);
    CHECK_EQ_I64(n, strlen(want));
    if (strcmp(buf, want) != 0)
        fprintf(stderr, "  got \"%s\", want \"%s\"\n", buf, want);
}

static void test_cut_and_format(void)
{
    cm_prefix p;
    cm_addr a = v4("10.1.2.3");
    cm_prefix_of(&a, 24, &p);
    check_text(&p, "10.1.2.0/24");
    cm_prefix_of(&a, 23, &p);
    check_text(&p, "10.1.2.0/23");
    cm_prefix_of(&a, 22, &p);
    check_text(&p, "10.1.0.0/22");
    cm_prefix_of(&a, 0, &p);
    check_text(&p, "0.0.0.0/0");
    cm_prefix_of(&a, 32, &p);
    check_text(&p, "10.1.2.3/32");
    cm_prefix_of(&a, 99, &p); /* clipped to the family */
    check_text(&p, "10.1.2.3/32");
    cm_prefix_of(&a, 31, &p);
    check_text(&p, "10.1.2.2/31");

    cm_addr b = v6("2001:db8:1234:5678::9");
    cm_prefix_of(&b, 48, &p);
    check_text(&p, "2001:db8:1234::/48");
    cm_prefix_of(&b, 32, &p);
    check_text(&p, "2001:db8::/32");
    cm_prefix_of(&b, 52, &p);
    check_text(&p, "2001:db8:1234:5000::/52");
    cm_prefix_of(&b, 128, &p);
    check_text(&p, "2001:db8:1234:5678::9/128");
    cm_prefix_of(&b, 0, &p);
    check_text(&p, "::/0");

    cm_prefix_of_family(&a, 16, 64, &p);
    check_text(&p, "10.1.0.0/16");
    cm_prefix_of_family(&b, 16, 64, &p);
    check_text(&p, "2001:db8:1234:5678::/64");

    /* the longest text fits */
    cm_addr c = v6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe");
    cm_prefix_of(&c, 127, &p);
    char buf[CM_PREFIX_TEXT_MAX];
    CHECK(cm_prefix_format(&p, buf, sizeof buf) < sizeof buf);
    check_text(&p, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127");
    /* cut like snprintf */
    char small[8];
    CHECK_EQ_I64(cm_prefix_format(&p, small, sizeof small), strlen(buf));
    CHECK(strcmp(small, "ffff:ff") == 0);
}

static void test_contains(void)
{
    cm_prefix p;
    CHECK(cm_prefix_parse("10.1.0.0/16", &p) == NULL);
    cm_addr in = v4("10.1.255.7"), out = v4("10.2.0.1");
    CHECK(cm_prefix_contains(&p, &in));
    CHECK(!cm_prefix_contains(&p, &out));
    cm_addr six = v6("::ffff:10.1.0.1"); /* another family never matches */
    CHECK(!cm_prefix_contains(&p, &six));

    CHECK(cm_prefix_parse("192.168.0.0/23", &p) == NULL);
    cm_addr x = v4("192.168.1.200"), y = v4("192.168.2.0");
    CHECK(cm_prefix_contains(&p, &x));
    CHECK(!cm_prefix_contains(&p, &y));

    CHECK(cm_prefix_parse("0.0.0.0/0", &p) == NULL);
    CHECK(cm_prefix_contains(&p, &out));
    CHECK(!cm_prefix_contains(&p, &six));

    CHECK(cm_prefix_parse("2001:db8::/33", &p) == NULL);
    cm_addr i6 = v6("2001:db8:7fff::1"), o6 = v6("2001:db8:8000::1");
    CHECK(cm_prefix_contains(&p, &i6));
    CHECK(!cm_prefix_contains(&p, &o6));

    CHECK(cm_prefix_parse("10.0.0.9", &p) == NULL); /* a host */
    CHECK_EQ_I64(p.len, 32);
    cm_addr h = v4("10.0.0.9"), h2 = v4("10.0.0.8");
    CHECK(cm_prefix_contains(&p, &h));
    CHECK(!cm_prefix_contains(&p, &h2));
    CHECK(cm_prefix_parse("::1", &p) == NULL);
    CHECK_EQ_I64(p.len, 128);
}

static void test_parse_errors(void)
{
    static const char *const bad[] = {
        "", "/24", "10.1.2", "10.1.2.0/", "10.1.2.0/33", "10.1.2.0/-1", "10.1.2.0/2x",
        "10.1.2.0/ 24", "10.1.2.0/24/1", "300.1.2.0/24", "eth0", "2001:db8::/129",
        "2001:db8:::/48", "10.1.2.3/24", "2001:db8::1/64", "10.1.2.0/024x",
        "10.1.2.0/99999999999999999999",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cm_prefix p;
        const char *err = cm_prefix_parse(bad[i], &p);
        CHECK(err != NULL);
        if (!err)
            fprintf(stderr, "  \"%s\" parsed\n", bad[i]);
    }
    /* bits past the length: the message says so, and *out holds the
     * prefix the length meant (for a suggestion) */
    cm_prefix p;
    const char *err = cm_prefix_parse("10.1.2.3/24", &p);
    CHECK(err && strstr(err, "bits"));
    check_text(&p, "10.1.2.0/24");
    err = cm_prefix_parse("10.1.2.0/33", &p);
    CHECK(err && strstr(err, "0 to 32"));
    err = cm_prefix_parse("2001:db8::/200", &p);
    CHECK(err && strstr(err, "0 to 128"));
    err = cm_prefix_parse("bogus/8", &p);
    CHECK(err && strstr(err, "IPv4"));

    /* leading zeros in the length are fine, the same value */
    CHECK(cm_prefix_parse("10.1.0.0/016", &p) == NULL);
    CHECK_EQ_I64(p.len, 16);

    unsigned len;
    CHECK(cm_prefix_parse_len("24", 4, &len) == NULL && len == 24);
    CHECK(cm_prefix_parse_len("0", 4, &len) == NULL && len == 0);
    CHECK(cm_prefix_parse_len("128", 6, &len) == NULL && len == 128);
    CHECK(cm_prefix_parse_len("33", 4, &len) != NULL);
    CHECK(cm_prefix_parse_len("129", 6, &len) != NULL);
    CHECK(cm_prefix_parse_len("", 4, &len) != NULL);
    CHECK(cm_prefix_parse_len("-1", 4, &len) != NULL);
    CHECK(cm_prefix_parse_len("24 ", 4, &len) != NULL);
    CHECK(cm_prefix_parse_len("4294967320", 4, &len) != NULL); /* 2^32 + 24 */
}

static void test_eq_hash_cmp(void)
{
    cm_prefix a, b, c, d;
    cm_addr x = v4("10.1.2.3"), y = v4("10.1.2.200"), z = v6("::a01:203");
    cm_prefix_of(&x, 24, &a);
    cm_prefix_of(&y, 24, &b);
    cm_prefix_of(&x, 25, &c);
    cm_prefix_of(&z, 120, &d);
    CHECK(cm_prefix_eq(&a, &b));
    CHECK(cm_prefix_hash(&a) == cm_prefix_hash(&b));
    CHECK(!cm_prefix_eq(&a, &c));
    CHECK(!cm_prefix_eq(&a, &d));
    CHECK(cm_prefix_cmp(&a, &b) == 0);
    CHECK(cm_prefix_cmp(&a, &c) < 0);  /* same bytes, shorter first */
    CHECK(cm_prefix_cmp(&c, &a) > 0);
    CHECK(cm_prefix_cmp(&a, &d) < 0);  /* IPv4 first */
    cm_addr w = v4("9.255.255.255");
    cm_prefix e;
    cm_prefix_of(&w, 24, &e);
    CHECK(cm_prefix_cmp(&e, &a) < 0);
}

static void test_list(void)
{
    cm_prefix_list l;
    cm_prefix_list_init(&l);
    cm_addr a = v4("192.168.7.7"), b = v6("fe80::1"), c = v4("8.8.8.8");
    CHECK(!cm_prefix_list_match(&l, &a));
    static const char *const nets[] = {"10.0.0.0/8", "192.168.0.0/16", "fe80::/10",
                                       "172.16.0.0/12", "127.0.0.1"};
    for (size_t i = 0; i < sizeof nets / sizeof nets[0]; i++) {
        cm_prefix p;
        CHECK(cm_prefix_parse(nets[i], &p) == NULL);
        CHECK(cm_prefix_list_add(&l, &p));
    }
    CHECK_EQ_I64(l.n, 5);
    CHECK(cm_prefix_list_match(&l, &a));
    CHECK(cm_prefix_list_match(&l, &b));
    CHECK(!cm_prefix_list_match(&l, &c));
    cm_addr lo = v4("127.0.0.1"), lo2 = v4("127.0.0.2");
    CHECK(cm_prefix_list_match(&l, &lo));
    CHECK(!cm_prefix_list_match(&l, &lo2));
    cm_prefix_list_free(&l);
    CHECK_EQ_I64(l.n, 0);
}

/* ---- random addresses against a bit-by-bit reference ------------------------------ */

static uint64_t rng_state = UINT64_C(0x9E3779B97F4A7C15);
static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

static int bit(const uint8_t *b, unsigned i)
{
    return (b[i / 8] >> (7 - i % 8)) & 1;
}

static void test_random(void)
{
    for (int iter = 0; iter < 20000; iter++) {
        cm_addr a, b;
        memset(&a, 0, sizeof a);
        a.family = (rnd() & 1) ? 6 : 4;
        unsigned width = a.family == 6 ? 128 : 32;
        for (unsigned i = 0; i < width / 8; i++)
            a.bytes[i] = (uint8_t)rnd();
        b = a;
        unsigned flip = rnd() % width; /* b differs from a in bit `flip` only */
        b.bytes[flip / 8] ^= (uint8_t)(0x80u >> (flip % 8));
        unsigned len = rnd() % (width + 1);
        cm_prefix p;
        cm_prefix_of(&a, len, &p);
        int ok = 1;
        for (unsigned i = 0; i < width; i++)
            ok &= bit(p.addr.bytes, i) == (i < len ? bit(a.bytes, i) : 0);
        CHECK(ok);
        CHECK(cm_prefix_contains(&p, &a));
        CHECK(cm_prefix_contains(&p, &b) == (flip >= len));
        /* text round trip */
        char text[CM_PREFIX_TEXT_MAX];
        cm_prefix_format(&p, text, sizeof text);
        cm_prefix q;
        CHECK(cm_prefix_parse(text, &q) == NULL);
        CHECK(cm_prefix_eq(&p, &q));
    }
}

int main(void)
{
    RUN(test_cut_and_format);
    RUN(test_contains);
    RUN(test_parse_errors);
    RUN(test_eq_hash_cmp);
    RUN(test_list);
    RUN(test_random);
    return check_summary("test_prefix");
}
