/* A tiny check harness for the engine unit tests. */
#ifndef CONNMON_CHECK_H
#define CONNMON_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

static int check_failures;
static int check_count;

#define CHECK(cond)                                                                \
    do {                                                                           \
        check_count++;                                                             \
        if (!(cond)) {                                                             \
            check_failures++;                                                      \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                          \
    } while (0)

#define CHECK_EQ_I64(a, b)                                                          \
    do {                                                                            \
        int64_t va_ = (int64_t)(a), vb_ = (int64_t)(b);                              \
        check_count++;                                                              \
        if (va_ != vb_) {                                                           \
            check_failures++;                                                       \
            fprintf(stderr, "%s:%d: %s == %" PRId64 ", expected %s == %" PRId64 "\n", \
                    __FILE__, __LINE__, #a, va_, #b, vb_);                            \
        }                                                                           \
    } while (0)

#define RUN(test)                                                                 \
    do {                                                                          \
        int before_ = check_failures;                                             \
        test();                                                                   \
        printf("%s %s\n", check_failures == before_ ? "ok  " : "FAIL", #test);   \
    } while (0)

static inline int check_summary(const char *name)
{
    printf("%s: %d checks, %d failed\n", name, check_count, check_failures);
    return check_failures ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
