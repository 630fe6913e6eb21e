#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""XLB cluster lab client: what a failure costs the clients, as JSON.

Keeps --conns long-lived TCP connections to VIP:PORT, each sending "ping N"
every --interval-ms and reading the reply (tools/xlb-echo.py answers with
the real's name), plus --new-rate short connections a second (connect, one
line, reply, close). Runs until SIGTERM/SIGINT or --duration, then prints
one JSON object:

  long.opened / long.broken    connections opened (a broken one is opened
                               again) and broken: reset, EOF, error, no
                               reply within --reply-timeout, or a reply
                               from another real than the first one
  long.reasons                 broken connections by reason
  long.round_trips             answered requests
  new.attempted / new.failed   short connections; failed: an error, a
                               wrong reply, or slower than --new-timeout
  new.max_connect_ms, new.max_ms   slowest connect, slowest whole exchange
  interruption_ms              the longest gap between two answered
                               requests of one long-lived connection,
                               minus the interval
  phases                       the same per phase: SIGUSR1 starts a new
                               phase (e.g. before a failure, after it);
                               a gap counts in the phase it ends in;
                               each phase also gives the connections that
                               stalled (waited 100 ms beyond the
                               interval), when, on which real, and the
                               client's own lateness (client_lag_ms)
  by_real                      long-lived connections per first real

Client source addresses come from --bind-addrs, in turn, so that ECMP on
the way (which hashes addresses and ports) spreads the connections.
Python 3 standard library only.
"""

import argparse
import asyncio
import json
import signal
import sys
import time


# A wait this much beyond the interval counts as a stall (phases' detail).
STALL_MS = 100.0


def deadline(seconds):
    """A timeout for the awaits in its block, without a task of its own
    per await (asyncio.wait_for's cost, 4,000 times a second here)."""
    return asyncio.timeout(seconds)


def now_ms():
    return time.monotonic() * 1000.0


class Phase:
    def __init__(self, name, start):
        self.name = name
        self.start = start
        self.max_gap = 0.0
        self.max_gap_at = None
        self.broken = 0
        self.new_failed = 0
        self.new_attempted = 0
        self.new_max_connect = 0.0
        self.new_max = 0.0
        self.round_trips = 0
        self.stalls = []  # (gap ms, start, end, conn, real)
        self.loop_lag = 0.0

    def report(self, t0, interval):
        return {
            "name": self.name,
            "start_s": round((self.start - t0) / 1000.0, 3),
            "interruption_ms": round(max(0.0, self.max_gap - interval), 1),
            "interruption_at_s": None if self.max_gap_at is None else
            round((self.max_gap_at - t0) / 1000.0, 3),
            "round_trips": self.round_trips,
            "long_broken": self.broken,
            "new_attempted": self.new_attempted,
            "new_failed": self.new_failed,
            "new_max_connect_ms": round(self.new_max_connect, 1),
            "new_max_ms": round(self.new_max, 1),
            # Connections that waited STALL_MS beyond their interval in
            # this phase; the window from the first such wait's start to
            # the last one's end; and the longest few.
            "stalled_conns": len({c for _, _, _, c, _ in self.stalls}),
            "stall_window_s": None if not self.stalls else [
                round((min(s for _, s, _, _, _ in self.stalls) - t0)
                      / 1000.0, 3),
                round((max(e for _, _, e, _, _ in self.stalls) - t0)
                      / 1000.0, 3)],
            "stalled_by_real": {r: sum(1 for x in self.stalls if x[4] == r)
                                for r in sorted({x[4] for x in
                                                 self.stalls})},
            "longest_stalls": [
                {"ms": round(g - interval, 1),
                 "from_s": round((s - t0) / 1000.0, 3),
                 "conn": c, "real": r}
                for g, s, _, c, r in sorted(self.stalls, reverse=True)[:5]],
            # The client's own event loop: its longest late wake-up. A
            # large one means the client, not the path, was slow.
            "client_lag_ms": round(self.loop_lag, 1),
        }


class Flows:
    def __init__(self, args):
        self.a = args
        self.t0 = now_ms()
        self.phases = [Phase("0", self.t0)]
        self.stop = asyncio.Event()
        self.opened = 0
        self.broken = 0
        self.reasons = {}
        self.by_real = {}
        self.round_trips = 0
        self.new_attempted = 0
        self.new_failed = 0
        self.new_reasons = {}
        self.new_max_connect = 0.0
        self.new_max = 0.0
        self.bind_i = 0
        self.ready = 0
        self.tasks = set()

    @property
    def phase(self):
        return self.phases[-1]

    def new_phase(self):
        self.phases.append(Phase(str(len(self.phases)), now_ms()))

    def next_bind(self):
        addrs = self.a.bind_addrs
        if not addrs:
            return None
        self.bind_i += 1
        return (addrs[self.bind_i % len(addrs)], 0)

    def break_conn(self, reason):
        self.broken += 1
        self.phase.broken += 1
        self.reasons[reason] = self.reasons.get(reason, 0) + 1
        if self.a.verbose:
            print(f"{(now_ms() - self.t0) / 1000:.3f} broken: {reason}",
                  file=sys.stderr, flush=True)

    async def long_conn(self, idx, delay):
        interval = self.a.interval_ms / 1000.0
        first = True
        await asyncio.sleep(delay)
        while not self.stop.is_set():
            try:
                r, w = await asyncio.wait_for(asyncio.open_connection(
                    self.a.vip, self.a.port, local_addr=self.next_bind()),
                    self.a.new_timeout)
            except (OSError, asyncio.TimeoutError) as e:
                self.break_conn("connect " + type(e).__name__)
                await asyncio.sleep(0.2)
                continue
            self.opened += 1
            real = None
            last_ok = None
            n = 0
            reason = None
            try:
                while not self.stop.is_set():
                    n += 1
                    sent = now_ms()
                    w.write(f"ping {n}\n".encode())
                    async with deadline(self.a.reply_timeout):
                        line = await r.readline()
                    if not line:
                        reason = "eof"
                        break
                    got = now_ms()
                    name = line.decode("ascii", "replace").split()[0]
                    if real is None:
                        real = name
                        self.by_real[name] = self.by_real.get(name, 0) + 1
                        if first:
                            first = False
                            self.ready += 1
                    elif name != real:
                        reason = "real changed"
                        break
                    self.round_trips += 1
                    ph = self.phase
                    ph.round_trips += 1
                    if last_ok is not None and got - last_ok > ph.max_gap:
                        ph.max_gap = got - last_ok
                        ph.max_gap_at = got
                    if (last_ok is not None and got - last_ok >
                            self.a.interval_ms + STALL_MS):
                        ph.stalls.append((got - last_ok, last_ok, got,
                                          idx, real))
                    last_ok = got
                    # One request per interval, from the last send.
                    wait = interval - (got - sent) / 1000.0
                    if wait > 0:
                        await asyncio.sleep(wait)
            except asyncio.TimeoutError:
                reason = "reply timeout"
            except (OSError, UnicodeError, IndexError) as e:
                reason = type(e).__name__
            finally:
                w.close()
            if reason is not None and not self.stop.is_set():
                self.break_conn(reason)

    async def short_conn(self):
        self.new_attempted += 1
        ph = self.phase
        ph.new_attempted += 1
        t = now_ms()
        reason = None
        w = None
        try:
            r, w = await asyncio.wait_for(asyncio.open_connection(
                self.a.vip, self.a.port, local_addr=self.next_bind()),
                self.a.new_timeout)
            c = now_ms() - t
            self.new_max_connect = max(self.new_max_connect, c)
            ph.new_max_connect = max(ph.new_max_connect, c)
            w.write(b"ping 0\n")
            left = self.a.new_timeout - (now_ms() - t) / 1000.0
            line = await asyncio.wait_for(r.readline(), max(left, 0.001))
            if not line:
                reason = "eof"
        except asyncio.TimeoutError:
            reason = "timeout"
        except OSError as e:
            reason = type(e).__name__
        finally:
            if w is not None:
                w.close()
        total = now_ms() - t
        self.new_max = max(self.new_max, total)
        ph.new_max = max(ph.new_max, total)
        if reason is None and total > self.a.new_timeout * 1000:
            reason = "slow"
        if reason is not None:
            self.new_failed += 1
            ph.new_failed += 1
            self.new_reasons[reason] = self.new_reasons.get(reason, 0) + 1
            if self.a.verbose:
                print(f"{(now_ms() - self.t0) / 1000:.3f} new failed: "
                      f"{reason}", file=sys.stderr, flush=True)

    async def new_conns(self):
        if self.a.new_rate <= 0:
            return
        period = 1.0 / self.a.new_rate
        nxt = time.monotonic()
        while not self.stop.is_set():
            task = asyncio.ensure_future(self.short_conn())
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
            nxt += period
            wait = nxt - time.monotonic()
            if wait > 0:
                try:
                    await asyncio.wait_for(self.stop.wait(), wait)
                except asyncio.TimeoutError:
                    pass

    async def watch_lag(self):
        """The client's event loop's lateness, per phase."""
        step = 0.01
        while not self.stop.is_set():
            t = now_ms()
            await asyncio.sleep(step)
            late = now_ms() - t - step * 1000.0
            if late > self.phase.loop_lag:
                self.phase.loop_lag = late

    async def ready_file(self):
        if not self.a.ready_file:
            return
        while self.ready < self.a.conns and not self.stop.is_set():
            await asyncio.sleep(0.05)
        with open(self.a.ready_file, "w") as f:
            f.write(f"{self.ready}\n")

    def result(self):
        interval = self.a.interval_ms
        gap = max(p.max_gap for p in self.phases)
        return {
            "duration_s": round((now_ms() - self.t0) / 1000.0, 3),
            "long": {"conns": self.a.conns, "opened": self.opened,
                     "broken": self.broken, "reasons": self.reasons,
                     "round_trips": self.round_trips},
            "new": {"attempted": self.new_attempted,
                    "failed": self.new_failed,
                    "reasons": self.new_reasons,
                    "max_connect_ms": round(self.new_max_connect, 1),
                    "max_ms": round(self.new_max, 1)},
            "interruption_ms": round(max(0.0, gap - interval), 1),
            "phases": [p.report(self.t0, interval) for p in self.phases],
            "by_real": self.by_real,
        }

    async def run(self):
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, self.stop.set)
        loop.add_signal_handler(signal.SIGINT, self.stop.set)
        loop.add_signal_handler(signal.SIGUSR1, self.new_phase)
        # Connections open spread over a second, and their requests over
        # the interval, so the load is smooth.
        ramp = min(1.0, self.a.conns / 200.0)
        longs = [asyncio.ensure_future(
            self.long_conn(i, ramp * i / max(self.a.conns, 1)))
            for i in range(self.a.conns)]
        others = [asyncio.ensure_future(self.new_conns()),
                  asyncio.ensure_future(self.watch_lag()),
                  asyncio.ensure_future(self.ready_file())]
        try:
            await asyncio.wait_for(self.stop.wait(), self.a.duration)
        except asyncio.TimeoutError:
            self.stop.set()
        # In-flight short connections finish (bounded by their timeout).
        await asyncio.gather(*longs, *others, return_exceptions=True)
        if self.tasks:
            await asyncio.wait(list(self.tasks),
                               timeout=self.a.new_timeout + 0.5)
        return self.result()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vip", required=True)
    ap.add_argument("--port", type=int, default=80)
    ap.add_argument("--conns", type=int, default=200)
    ap.add_argument("--interval-ms", type=float, default=30)
    ap.add_argument("--new-rate", type=float, default=20,
                    help="short connections a second (0: none)")
    ap.add_argument("--duration", type=float, default=None,
                    help="seconds; default: until SIGTERM/SIGINT")
    ap.add_argument("--bind-addrs", default="",
                    help="client source addresses, comma-separated")
    ap.add_argument("--reply-timeout", type=float, default=2.0)
    ap.add_argument("--new-timeout", type=float, default=3.0)
    ap.add_argument("--ready-file",
                    help="written once every long-lived connection has "
                         "had its first reply")
    ap.add_argument("--verbose", action="store_true",
                    help="log every break and failure to stderr")
    a = ap.parse_args()
    a.bind_addrs = [x for x in a.bind_addrs.split(",") if x]
    res = asyncio.run(Flows(a).run())
    print(json.dumps(res), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
