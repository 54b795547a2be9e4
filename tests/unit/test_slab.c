/* The engine's allocators (engine/slab.c) and what they buy: memory per
 * connection with idle connections packed. */
#include <string.h>

#include "check.h"

#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif
#ifdef TEST_ASAN
#include <sanitizer/asan_interface.h>
#endif
#include "connmon.h"
#include "slab.h"

static void test_slab_blocks(void)
{
    cm_slab s;
    cm_slab_init(&s, 20); /* rounded to 24 */
    CHECK(s.size == 24);
    enum { N = 10000 };
    static unsigned char *blocks[N];
    for (int i = 0; i < N; i++) {
        blocks[i] = cm_slab_alloc(&s);
        CHECK(blocks[i] != NULL && (uintptr_t)blocks[i] % 8 == 0);
        memset(blocks[i], i & 0xff, 24);
    }
    for (int i = 0; i < N; i++) /* no block overlaps another */
        CHECK(blocks[i][0] == (i & 0xff) && blocks[i][23] == (i & 0xff));
    CHECK(s.live == N);
    size_t bytes = cm_slab_bytes(&s);
    CHECK(bytes >= N * 24 && bytes < N * 24 + 2 * 65536);
    cm_slab_free(&s, blocks[17]);
    cm_slab_free(&s, blocks[4000]);
    CHECK(s.live == N - 2);
#ifdef TEST_ASAN
    /* a freed block is poisoned past its free-list link: a use after free
     * of a connection is reported, as with malloc */
    CHECK(__asan_address_is_poisoned(blocks[4000] + 8));
    CHECK(__asan_address_is_poisoned(blocks[4000] + 23));
    CHECK(!__asan_address_is_poisoned(blocks[4001] + 8));
#endif
    CHECK(cm_slab_alloc(&s) == blocks[4000]); /* the last freed first: still cached */
#ifdef TEST_ASAN
    CHECK(!__asan_address_is_poisoned(blocks[4000] + 23));
#endif
    CHECK(cm_slab_alloc(&s) == blocks[17]);
    CHECK(cm_slab_bytes(&s) == bytes);        /* reused, nothing new */
    /* emptied chunks go back to the system (one spare kept) */
    for (int i = 0; i < N; i++)
        cm_slab_free(&s, blocks[i]);
    CHECK(s.live == 0 && cm_slab_bytes(&s) == 65536);
    for (int i = 0; i < N; i++)
        blocks[i] = cm_slab_alloc(&s);
    CHECK(cm_slab_bytes(&s) == bytes);
    for (int i = 0; i < N / 2; i++) /* the older half: their chunks empty out */
        cm_slab_free(&s, blocks[i]);
    CHECK(cm_slab_bytes(&s) <= bytes / 2 + 2 * 65536);
    cm_slab_destroy(&s);                      /* every block at once (ASan: no leak) */
    CHECK(s.live == 0 && cm_slab_bytes(&s) == 0);
}

static void test_pool_classes(void)
{
    cm_pool p;
    cm_pool_init(&p);
    CHECK(cm_pool_rounded(1) == 8 && cm_pool_rounded(8) == 8 && cm_pool_rounded(9) == 16);
    CHECK(cm_pool_rounded(CM_POOL_MAX) == CM_POOL_MAX);
    CHECK(cm_pool_rounded(CM_POOL_MAX + 1) > CM_POOL_MAX + 1);
    void *small[CM_POOL_MAX + 1];
    for (size_t n = 1; n <= CM_POOL_MAX; n++) {
        small[n] = cm_pool_alloc(&p, n);
        CHECK(small[n] != NULL);
        memset(small[n], 0xab, n);
    }
    size_t before = cm_pool_bytes(&p);
    void *large = cm_pool_alloc(&p, 5000);
    void *large2 = cm_pool_alloc(&p, 70000);
    CHECK(large && large2 && (uintptr_t)large % 16 == 0);
    memset(large, 1, 5000);
    memset(large2, 2, 70000);
    CHECK(cm_pool_bytes(&p) >= before + 75000);
    cm_pool_free(&p, large, 5000);
    CHECK(cm_pool_bytes(&p) >= before + 70000 && cm_pool_bytes(&p) < before + 75000);
    for (size_t n = 1; n <= CM_POOL_MAX; n++)
        cm_pool_free(&p, small[n], n);
    /* same class: the freed block comes back */
    void *again = cm_pool_alloc(&p, 13);
    CHECK(again == small[13] || again == small[14] || again == small[15] || again == small[16] ||
          again == small[9] || again == small[10] || again == small[11] || again == small[12]);
    cm_pool_destroy(&p); /* large2 and every small block: ASan reports a leak otherwise */
}

/* Not under AddressSanitizer, which maps and splits shadow memory of its
 * own as blocks are poisoned: the plain build (ctest in scripts/test.sh)
 * runs it. */
#if defined(__linux__) && !defined(TEST_ASAN)
static int count_mappings(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    int n = 0, ch;
    if (!f)
        return -1;
    while ((ch = fgetc(f)) != EOF)
        n += ch == '\n';
    fclose(f);
    return n;
}

/* A large capture must not meet the kernel's limit on mappings (65530):
 * chunks come from 1 MiB regions, not a mapping each. */
static void test_slab_mappings(void)
{
    enum { N = 200000 };
    static void *blocks[N];
    cm_slab s;
    cm_slab_init(&s, 96);
    int before = count_mappings();
    for (int i = 0; i < N; i++)
        blocks[i] = cm_slab_alloc(&s);
    int after = count_mappings();
    size_t chunks = cm_slab_bytes(&s) / 65536;
    CHECK(chunks >= N * 96 / 65536);
    CHECK(before > 0 && after - before <= (int)(chunks / 16) + 4);
    for (int i = 0; i < N; i += 2) /* half freed: nothing unmapped, nothing lost */
        cm_slab_free(&s, blocks[i]);
    for (int i = 0; i < N; i += 2)
        blocks[i] = cm_slab_alloc(&s);
    CHECK(cm_slab_bytes(&s) / 65536 == chunks);
    cm_slab_destroy(&s);
    CHECK(count_mappings() <= before + 1);
}
#endif

/* n handshakes with timestamps, one connection after another. */
static void handshakes(cm_engine *eng, uint32_t n)
{
    uint32_t frame = 1;
    for (uint32_t i = 0; i < n; i++) {
        int64_t t = 1700000000000000000 + (int64_t)i * 20000;
        cm_packet p;
        memset(&p, 0, sizeof p);
        p.stream = i;
        p.src.family = p.dst.family = 4;
        memcpy(p.src.bytes, &i, 4);
        p.dst.bytes[0] = 192;
        p.sport = 40000;
        p.dport = 443;
        p.has_ts = true;
        for (int k = 0; k < 3; k++) {
            cm_packet q = p;
            q.frame = frame++;
            q.t_ns = t + k * 500000;
            bool from_client = k != 1;
            if (!from_client) {
                q.src = p.dst, q.dst = p.src, q.sport = p.dport, q.dport = p.sport;
            }
            q.flags = k == 0 ? CM_TH_SYN : k == 1 ? (CM_TH_SYN | CM_TH_ACK) : CM_TH_ACK;
            q.seq = from_client ? 1000 + (k == 2) : 5000;
            q.ack = k == 0 ? 0 : from_client ? 5001 : 1001;
            q.window = 64240;
            q.tsval = from_client ? 100 + k : 900;
            q.tsecr = k == 0 ? 0 : from_client ? 900 : 100;
            cm_result r;
            CHECK(cm_engine_analyse(eng, &q, &r));
        }
    }
}

/* The figure behind issue 8's memory targets, for the engine alone: an
 * answered handshake (one pending TS entry left) held packed. */
static void test_memory_per_connection(void)
{
    enum { N = 100000 };
    cm_config cfg;
    cm_config_default(&cfg);
    cm_engine_memory hot, packed;

    cfg.pack_idle_ns = -1;
    cm_engine *eng = cm_engine_new(&cfg);
    handshakes(eng, N);
    cm_engine_get_memory(eng, &hot);
    cm_engine_free(eng);

    cfg.pack_idle_ns = 0;
    eng = cm_engine_new(&cfg);
    handshakes(eng, N);
    cm_engine_get_memory(eng, &packed);
    cm_engine_counters c;
    cm_engine_get_counters(eng, &c);
    cm_engine_free(eng);

    CHECK(hot.conns == N && hot.conns_hot == N);
    CHECK(packed.conns == N && packed.conns_hot == 0);
    CHECK(c.conns_packed >= N);
    printf("engine bytes per connection: %zu hot, %zu packed\n", hot.bytes / N, packed.bytes / N);
    CHECK(hot.bytes / N > 300);     /* connection + queue header + ring */
    CHECK(packed.bytes / N <= 120); /* node, ~70 B of varints, bucket */
}

int main(void)
{
    RUN(test_slab_blocks);
    RUN(test_pool_classes);
#if defined(__linux__) && !defined(TEST_ASAN)
    RUN(test_slab_mappings);
#endif
    RUN(test_memory_per_connection);
    return check_summary("test_slab");
}
