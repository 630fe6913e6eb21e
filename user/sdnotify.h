/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xlbd under systemd (Type=notify, WatchdogSec=): readiness, reload and
 * stop notifications and the watchdog keep-alive, through libsystemd's
 * sd-daemon API. Every function is a no-op returning 0 when the process
 * was not started by systemd ($NOTIFY_SOCKET unset), so xlbd behaves the
 * same in a terminal, in the test lab and under the service manager.
 * Functions return 0 or -errno and never log.
 */
#ifndef XLB_SDNOTIFY_H
#define XLB_SDNOTIFY_H

#include <stdint.h>

/*
 * READY=1, with STATUS=status when status is not NULL. Send it once the
 * programs are attached and the maps filled, and again after a reload.
 */
int xlb_sd_ready(const char *status);
/*
 * RELOADING=1 with MONOTONIC_USEC= (what systemd 253+ expects for
 * Type=notify-reload; older managers ignore the extra field). Follow it
 * with xlb_sd_ready() once the reload is done, whether it was applied or
 * refused.
 */
int xlb_sd_reloading(void);
/* STOPPING=1: the daemon has begun to stop. */
int xlb_sd_stopping(void);
/*
 * STATUS=...: a one-line status shown by `systemctl status`. Newlines in
 * the formatted text are replaced by spaces so that it stays one field.
 */
int xlb_sd_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

struct xlb_sd_watchdog;

/*
 * When systemd expects keep-alive pings ($WATCHDOG_USEC set for this
 * process), register a timer firing at half the watchdog interval in the
 * epoll set epfd (xlb_loop_add); its handler sends WATCHDOG=1. The ping
 * comes from the main loop itself, so a loop that is stuck stops pinging
 * and systemd notices. One ping is sent at once. *out is NULL when there
 * is no watchdog (return 0).
 */
int xlb_sd_watchdog_start(int epfd, struct xlb_sd_watchdog **out);
/* The watchdog timeout systemd set, in microseconds. */
uint64_t xlb_sd_watchdog_usec(const struct xlb_sd_watchdog *wd);
/* Unregister and free the timer. Accepts NULL. */
void xlb_sd_watchdog_stop(struct xlb_sd_watchdog *wd);

#endif /* XLB_SDNOTIFY_H */
