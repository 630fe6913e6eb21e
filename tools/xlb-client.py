#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""XLB lab test client: counts which real answers, prints JSON.

  spread  N short requests, each from a new source port (TCP: one
          connection per request; UDP: one socket per request), or from
          ports reused in turn (--sport, --ports). With --peer, also
          counts the client address each server saw.
  long    K TCP connections kept open, each sending "ping N" every
          INTERVAL seconds; reports the real of each and every error.

Talks to tools/xlb-echo.py. Every wait is bounded: per-request timeouts
and an overall deadline, so a broken data path ends in a failed count,
never in a hang. Python 3 standard library only.
"""

import argparse
import concurrent.futures
import json
import socket
import sys
import threading
import time

DEFAULT_VIP4 = "10.100.0.10"
DEFAULT_VIP6 = "fd00:100::10"
# Linux's SO_NO_CHECK: send UDP over IPv4 with no checksum (zero).
SO_NO_CHECK = getattr(socket, "SO_NO_CHECK", 11)


def family_of(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def read_line(sock, limit=256):
    """One reply line from a TCP socket, without the newline."""
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = sock.recv(limit - len(buf))
        if not chunk:
            raise ConnectionError("closed by peer")
        buf += chunk
        if len(buf) >= limit:
            raise ValueError("reply too long")
    return buf.decode("ascii", "replace").strip()


def new_socket(vip, udp, src, timeout, no_checksum=False, sport=0):
    kind = socket.SOCK_DGRAM if udp else socket.SOCK_STREAM
    sock = socket.socket(family_of(vip), kind)
    sock.settimeout(timeout)
    if no_checksum:
        sock.setsockopt(socket.SOL_SOCKET, SO_NO_CHECK, 1)
    if sport and not udp:
        # A fixed port used again and again: close with an RST (no
        # TIME_WAIT here), so that the next connect may take it at once.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                        (1).to_bytes(4, sys.byteorder) +
                        (0).to_bytes(4, sys.byteorder))
    if src or sport:
        # Port 0: the kernel still picks a fresh source port.
        sock.bind((src or "", sport))
    return sock


def one_request(vip, port, udp, src, timeout, peer=False, no_checksum=False,
                sport=0):
    """Ask once. Returns (real, source port, the address the real saw, or
    None without peer); raises on any failure."""
    request = b"peer\n" if peer else b"who\n"
    with new_socket(vip, udp, src, timeout, no_checksum, sport) as sock:
        sock.connect((vip, port))
        sport = sock.getsockname()[1]
        if udp:
            sock.send(request)
            reply = sock.recv(256).decode("ascii", "replace").strip()
        else:
            sock.sendall(request)
            reply = read_line(sock)
        words = reply.split()
        if len(words) != (2 if peer else 1):
            raise ValueError(f"unexpected reply {reply!r}")
        return words[0], sport, words[1] if peer else None


def error_name(exc):
    if isinstance(exc, OSError) and exc.errno:
        return f"{type(exc).__name__}({exc.errno})"
    return type(exc).__name__


def cmd_spread(args):
    vip = args.vip or (DEFAULT_VIP6 if args.v6 else DEFAULT_VIP4)
    srcs = args.src.split(",") if args.src else [None]
    deadline = time.monotonic() + args.deadline
    lock = threading.Lock()
    res = {"vip": vip, "port": args.port, "proto": "udp" if args.udp else
           "tcp", "total": args.count, "ok": 0, "failed": 0, "by_real": {},
           "errors": {}}
    by_src = {}
    by_peer = {}
    sports = set()

    def work(i):
        src = srcs[i % len(srcs)]
        if time.monotonic() > deadline:
            err, real, sport, peer = "deadline", None, None, None
        else:
            try:
                real, sport, peer = one_request(
                    vip, args.port, args.udp, src, args.timeout, args.peer,
                    args.no_checksum,
                    args.sport + i % args.ports if args.sport else 0)
                err = None
            except (OSError, ValueError) as exc:
                err, real, sport, peer = error_name(exc), None, None, None
        with lock:
            if err:
                res["failed"] += 1
                res["errors"][err] = res["errors"].get(err, 0) + 1
                return
            res["ok"] += 1
            res["by_real"][real] = res["by_real"].get(real, 0) + 1
            sports.add(sport)
            if peer:
                by_peer[peer] = by_peer.get(peer, 0) + 1
            if src:
                reals = by_src.setdefault(src, {})
                reals[real] = reals.get(real, 0) + 1

    with concurrent.futures.ThreadPoolExecutor(args.parallel) as pool:
        list(pool.map(work, range(args.count)))
    res["by_real"] = dict(sorted(res["by_real"].items()))
    res["source_ports"] = len(sports)
    if args.src:
        res["by_src"] = by_src
    if args.peer:
        res["by_peer"] = dict(sorted(by_peer.items()))
    return res


def long_conn(idx, args, vip, stop, out):
    """Keep one connection busy until stop is set or it breaks."""
    st = {"conn": idx, "real": None, "sent": 0, "answered": 0, "errors": []}
    out.append(st)
    try:
        sock = new_socket(vip, False, None, args.timeout)
        sock.connect((vip, args.port))
        st["source_port"] = sock.getsockname()[1]
    except OSError as exc:
        st["errors"].append(f"connect: {error_name(exc)}")
        return
    with sock:
        n = 0
        while not stop.is_set():
            n += 1
            try:
                sock.sendall(f"ping {n}\n".encode())
                st["sent"] += 1
                reply = read_line(sock)
            except (OSError, ValueError) as exc:
                st["errors"].append(f"ping {n}: {error_name(exc)}")
                return
            words = reply.split()
            if len(words) != 2 or words[1] != str(n):
                st["errors"].append(f"ping {n}: bad reply {reply!r}")
                return
            if st["real"] is None:
                st["real"] = words[0]
            elif words[0] != st["real"]:
                # The flow moved: the connection is as good as broken.
                st["errors"].append(f"ping {n}: answered by {words[0]}, "
                                    f"was {st['real']}")
                return
            st["answered"] += 1
            stop.wait(args.interval)


def cmd_long(args):
    vip = args.vip or (DEFAULT_VIP6 if args.v6 else DEFAULT_VIP4)
    stop = threading.Event()
    conns = []
    threads = [threading.Thread(target=long_conn,
                                args=(i, args, vip, stop, conns),
                                daemon=True) for i in range(args.conns)]
    for t in threads:
        t.start()
    if args.ready_file:
        # Tell the caller that the connections are up before the clock
        # runs, so that the changes it makes happen under traffic.
        time.sleep(min(0.5, args.duration))
        with open(args.ready_file, "w") as f:
            f.writelines(f"{c['real'] or 'none'}\n" for c in conns)
    stop.wait(args.duration)
    stop.set()
    for t in threads:
        t.join(args.timeout + 1)
    conns.sort(key=lambda c: c["conn"])
    errors = sum(len(c["errors"]) for c in conns)
    return {"vip": vip, "port": args.port, "conns": args.conns,
            "duration": args.duration, "sent": sum(c["sent"] for c in conns),
            "answered": sum(c["answered"] for c in conns), "errors": errors,
            "by_conn": conns}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--vip", help="address to talk to (default "
                        f"{DEFAULT_VIP4}, or {DEFAULT_VIP6} with --v6)")
    common.add_argument("--v6", action="store_true",
                        help="default to the IPv6 VIP")
    common.add_argument("--port", type=int, default=80)
    common.add_argument("--timeout", type=float, default=2.0,
                        help="seconds to wait for one reply")

    sp = sub.add_parser("spread", parents=[common],
                        help="N short requests, count answers per real")
    sp.add_argument("--count", type=int, default=100)
    sp.add_argument("--udp", action="store_true")
    sp.add_argument("--parallel", type=int, default=8,
                    help="requests in flight at once")
    sp.add_argument("--src", help="comma-separated source addresses, "
                    "used in turn")
    sp.add_argument("--deadline", type=float, default=60.0,
                    help="seconds after which the rest count as failed")
    sp.add_argument("--no-checksum", action="store_true",
                    help="UDP over IPv4: send datagrams with a zero "
                    "checksum (none)")
    sp.add_argument("--sport", type=int, default=0,
                    help="TCP: send request i from source port SPORT + "
                    "i %% PORTS (reused ports, as clients behind NAT do); "
                    "each connection then ends with an RST")
    sp.add_argument("--ports", type=int, default=1,
                    help="how many source ports --sport uses")
    sp.add_argument("--peer", action="store_true",
                    help="ask each server which address the request came "
                    "from; count them in by_peer")

    lp = sub.add_parser("long", parents=[common],
                        help="long-lived TCP connections")
    lp.add_argument("--duration", type=float, default=5.0)
    lp.add_argument("--interval", type=float, default=0.05)
    lp.add_argument("--conns", type=int, default=1)
    lp.add_argument("--ready-file",
                    help="once connections are up, write their reals "
                    "here, one a line")

    args = ap.parse_args()
    if args.cmd == "spread" and args.no_checksum and \
            (not args.udp or args.v6 or ":" in (args.vip or "")):
        ap.error("--no-checksum is for UDP over IPv4")
    if args.cmd == "spread":
        res = cmd_spread(args)
        bad = res["failed"] > 0
    else:
        res = cmd_long(args)
        bad = res["errors"] > 0
    json.dump(res, sys.stdout)
    sys.stdout.write("\n")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
