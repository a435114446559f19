/* hlc.h - hybrid logical clock: the timestamps that order writes across regions.
 *
 * A timestamp is one uint64_t: physical milliseconds since the epoch in the
 * upper 48 bits, a logical counter in the lower 16, so timestamps compare as
 * integers. repl_hlc_now() never returns the same value twice and never goes
 * below anything passed to repl_hlc_observe(), so a write made after a
 * replicated write has been applied always orders after it, whatever the
 * clocks of the two regions say. Thread-safe. */
#ifndef TANDEM_REPL_HLC_H
#define TANDEM_REPL_HLC_H

#include <pthread.h>
#include <stdint.h>

struct repl_hlc {
    pthread_mutex_t mu;
    uint64_t last;
};

#define REPL_HLC_INIT                                                                              \
    {                                                                                              \
        PTHREAD_MUTEX_INITIALIZER, 0                                                               \
    }

/* repl_hlc_ms / repl_hlc_logical - the two parts of @ts. */
static inline int64_t repl_hlc_ms(uint64_t ts)
{
    return (int64_t)(ts >> 16);
}
static inline unsigned repl_hlc_logical(uint64_t ts)
{
    return (unsigned)(ts & 0xffff);
}

/* repl_hlc_tick - a new timestamp of @c given the wall clock @wall_ms:
 * greater than every timestamp @c returned or observed before. */
uint64_t repl_hlc_tick(struct repl_hlc *c, int64_t wall_ms);

/* repl_hlc_seen - make @c's later ticks greater than @remote. */
void repl_hlc_seen(struct repl_hlc *c, uint64_t remote);

/* The region's clock (one region per process): repl_hlc_tick and
 * repl_hlc_seen on it, with the real wall clock. */
uint64_t repl_hlc_now(void);
void repl_hlc_observe(uint64_t remote);

#endif
