/* hlc.c - see hlc.h. */
#include "hlc.h"

#include "clock.h"

uint64_t repl_hlc_tick(struct repl_hlc *c, int64_t wall_ms)
{
    uint64_t phys = wall_ms > 0 ? (uint64_t)wall_ms << 16 : 0, ts;

    pthread_mutex_lock(&c->mu);
    if (phys > c->last)
        c->last = phys;
    else
        c->last++;
    ts = c->last;
    pthread_mutex_unlock(&c->mu);
    return ts;
}

void repl_hlc_seen(struct repl_hlc *c, uint64_t remote)
{
    pthread_mutex_lock(&c->mu);
    if (remote > c->last)
        c->last = remote;
    pthread_mutex_unlock(&c->mu);
}

static struct repl_hlc region_clock = REPL_HLC_INIT;

uint64_t repl_hlc_now(void)
{
    return repl_hlc_tick(&region_clock, clock_wall_ms());
}

void repl_hlc_observe(uint64_t remote)
{
    repl_hlc_seen(&region_clock, remote);
}
