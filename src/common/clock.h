/* clock.h - wall and monotonic time. */
#ifndef TANDEM_CLOCK_H
#define TANDEM_CLOCK_H

#include <stdint.h>
#include <time.h>

/* clock_wall_ms - milliseconds since the Unix epoch. */
int64_t clock_wall_ms(void);

/* clock_mono_us - microseconds on a monotonic clock, for durations. */
int64_t clock_mono_us(void);

/* clock_wall_s - seconds since the Unix epoch; tests may override it with
 * clock_set_offset() to exercise skew and expiry. */
time_t clock_wall_s(void);

/* clock_deadline_ms - the time @ms milliseconds from now on CLOCK_REALTIME,
 * the clock pthread_cond_timedwait() measures by default. Not shifted by
 * clock_set_offset(). */
struct timespec clock_deadline_ms(int64_t ms);

/* clock_set_offset - shift clock_wall_* by @seconds (tests only). */
void clock_set_offset(int64_t seconds);

#endif
