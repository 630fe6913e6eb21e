#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""How many next hops a namespace's kernel has for a prefix, over netlink.

  nexthops.py NETNS PREFIX                 print the count now
  nexthops.py NETNS PREFIX --want N [--timeout S] [--start-us US]
                                           wait until the count is N; print
                                           the ms it took since US (the
                                           epoch in microseconds, bash's
                                           EPOCHREALTIME; default: this
                                           program's start); exit 1 and -1
                                           on timeout

The cluster tests time the router's reaction to a node's failure and
return with this. Polling with `ip route` costs a fork and an exec per
look (tens of ms of CPU each on the lab's VM), which loaded the very CPUs
whose pauses the tests measure; one process reading the routing table
over netlink every 10 ms costs a few per cent of one. Python 3 standard library
only.
"""

import argparse
import ctypes
import ipaddress
import os
import socket
import struct
import sys
import time

CLONE_NEWNET = 0x40000000
NETLINK_ROUTE = 0
RTM_GETROUTE = 26
RTM_NEWROUTE = 24
NLM_F_REQUEST = 0x1
NLM_F_DUMP = 0x300
NLMSG_DONE = 3
NLMSG_ERROR = 2
RTA_DST = 1
RTA_OIF = 4
RTA_GATEWAY = 5
RTA_MULTIPATH = 9
RTA_TABLE = 15
RTA_VIA = 18
RT_TABLE_MAIN = 254
POLL_S = 0.01


def enter_netns(name):
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(f"/run/netns/{name}", os.O_RDONLY)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setns {name}: {os.strerror(err)}")
    os.close(fd)


def attrs(buf, off, end):
    while off + 4 <= end:
        ln, typ = struct.unpack_from("=HH", buf, off)
        if ln < 4:
            break
        yield typ & 0x3fff, buf[off + 4:off + ln]
        off += (ln + 3) & ~3


def count(sock, net, seq):
    """Next hops of the main table's route to exactly net (0: none)."""
    fam = socket.AF_INET if net.version == 4 else socket.AF_INET6
    rtm = struct.pack("=BBBBBBBBI", fam, 0, 0, 0, 0, 0, 0, 0, 0)
    hdr = struct.pack("=IHHII", 16 + len(rtm), RTM_GETROUTE,
                      NLM_F_REQUEST | NLM_F_DUMP, seq, 0)
    sock.send(hdr + rtm)
    found = 0
    while True:
        buf = sock.recv(1 << 20)
        off = 0
        while off + 16 <= len(buf):
            ln, typ, _, s, _ = struct.unpack_from("=IHHII", buf, off)
            if ln < 16:
                return found
            if s != seq:
                off += (ln + 3) & ~3
                continue
            if typ == NLMSG_DONE:
                return found
            if typ == NLMSG_ERROR:
                raise OSError("netlink error")
            if typ == RTM_NEWROUTE:
                found = max(found, route_nexthops(buf, off + 16, off + ln,
                                                  net))
            off += (ln + 3) & ~3


def route_nexthops(buf, off, end, net):
    fam, dst_len, _, _, table, _, _, _, _ = struct.unpack_from(
        "=BBBBBBBBI", buf, off)
    if dst_len != net.prefixlen:
        return 0
    dst = None
    hops = 0
    single = False
    for typ, val in attrs(buf, off + 12, end):
        if typ == RTA_TABLE:
            table = struct.unpack("=I", val[:4])[0]
        elif typ == RTA_DST:
            dst = ipaddress.ip_address(bytes(val))
        elif typ == RTA_MULTIPATH:
            o = 0
            while o + 8 <= len(val):
                ln = struct.unpack_from("=H", val, o)[0]
                if ln < 8:
                    break
                hops += 1
                o += (ln + 3) & ~3
        elif typ in (RTA_GATEWAY, RTA_OIF, RTA_VIA):
            single = True
    if table != RT_TABLE_MAIN or dst != net.network_address:
        return 0
    return hops if hops else (1 if single else 0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("netns")
    ap.add_argument("prefix")
    ap.add_argument("--want", type=int)
    ap.add_argument("--timeout", type=float, default=15.0)
    ap.add_argument("--start-us", type=int)
    a = ap.parse_args()
    net = ipaddress.ip_network(a.prefix, strict=False)
    t0 = time.monotonic()
    if a.start_us is not None:
        t0 -= max(0.0, time.time() - a.start_us / 1e6)
    enter_netns(a.netns)
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)
    seq = 1
    while True:
        n = count(sock, net, seq)
        seq += 1
        if a.want is None:
            print(n)
            return 0
        waited = time.monotonic() - t0
        if n == a.want:
            print(int(waited * 1000))
            return 0
        if waited >= a.timeout:
            print(-1)
            return 1
        time.sleep(POLL_S)


if __name__ == "__main__":
    sys.exit(main())
