/*
 * clock.h - the clocks newsclf reads: monotonic time for durations and
 * deadlines, the wall clock and RFC 3339 formatting for records and logs,
 * and the build time (SOURCE_DATE_EPOCH) for reproducible models.
 */
#ifndef NC_CLOCK_H
#define NC_CLOCK_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* RFC 3339 UTC with milliseconds: 2026-11-27T10:00:00.123Z (out: >= 32 bytes). */
void nc_format_rfc3339_ms(int64_t ms, char *out, size_t outlen);

/* Seconds since the epoch: SOURCE_DATE_EPOCH when set, else now. */
time_t nc_build_time(void);

/* CLOCK_MONOTONIC in seconds, milliseconds and microseconds. */
double nc_now(void);
long long nc_now_ms(void);
unsigned long long nc_now_us(void);
/* Wall clock (CLOCK_REALTIME), milliseconds since the epoch. */
int64_t nc_wall_ms(void);

#endif
