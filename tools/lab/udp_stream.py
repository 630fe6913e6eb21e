#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""A steady UDP stream for the labs' next-hop tests.

udp_stream.py VIP PORT RATE SECONDS BASE_PORT [--read]

Sends RATE datagrams a second for SECONDS to VIP:PORT, from 32 sockets
bound to BASE_PORT .. BASE_PORT + 31 in turn (32 flows), and prints how
many it sent. With --read it also reads (and drops) what comes back, so
that the replies do not fill the sockets' buffers.
"""
import argparse
import socket
import time

FLOWS = 32


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("vip")
    ap.add_argument("port", type=int)
    ap.add_argument("rate", type=int)
    ap.add_argument("seconds", type=float)
    ap.add_argument("base_port", type=int)
    ap.add_argument("--read", action="store_true")
    a = ap.parse_args()
    socks = []
    for i in range(FLOWS):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("0.0.0.0", a.base_port + i))
        s.setblocking(False)
        socks.append(s)
    start = time.monotonic()
    n = sent = 0
    while True:
        now = time.monotonic() - start
        if now >= a.seconds:
            break
        due = int(now * a.rate)
        while n < due:
            try:
                socks[n % FLOWS].sendto(b"nexthop!", (a.vip, a.port))
                sent += 1
            except BlockingIOError:
                pass  # a full socket buffer: not sent, not counted
            n += 1
        if a.read:
            for s in socks:
                try:
                    while s.recv(2048):
                        pass
                except BlockingIOError:
                    pass
        time.sleep(0.0005)
    print(sent)


if __name__ == "__main__":
    main()
