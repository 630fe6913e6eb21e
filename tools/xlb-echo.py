#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""XLB lab test server: tells the client which real answered.

Line protocol, the same over TCP and UDP (one datagram = one line):
  "ping N"  -> "NAME N"
  anything else -> "NAME"
A TCP connection may carry any number of lines, so one server serves both
short connections (one line, close) and long-lived ones (a line every
few ms for minutes). Every connection gets its own thread.

Python 3 standard library only.
"""

import argparse
import socket
import socketserver
import sys
import threading


def answer(name, line):
    """The reply to one request line (without the newline)."""
    words = line.split()
    if len(words) == 2 and words[0] == "ping":
        return f"{name} {words[1]}"
    return name


class TCPHandler(socketserver.StreamRequestHandler):
    # A client that stops talking must not keep a thread forever.
    timeout = 120

    def handle(self):
        try:
            for raw in self.rfile:
                line = raw.decode("ascii", "replace").strip()
                reply = answer(self.server.name, line) + "\n"
                self.wfile.write(reply.encode())
        except (ConnectionError, socket.timeout):
            pass


class UDPHandler(socketserver.BaseRequestHandler):
    def handle(self):
        data, sock = self.request
        line = data.decode("ascii", "replace").strip()
        sock.sendto((answer(self.server.name, line) + "\n").encode(),
                    self.client_address)


class TCPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    # Hundreds of clients may connect at once: a short backlog would
    # turn a burst into SYN retransmits of a second or more.
    request_queue_size = 1024


class UDPServer(socketserver.UDPServer):
    # UDP requests are answered inline: one datagram, one reply, no thread.
    allow_reuse_address = True


def make_server(cls, handler, addr, port, name):
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    # socketserver takes the family from the class, so derive one per use.
    server_cls = type(cls.__name__, (cls,), {"address_family": family})
    server = server_cls((addr, port), handler, bind_and_activate=False)
    if family == socket.AF_INET6:
        server.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    server.server_bind()
    if cls is TCPServer:
        server.server_activate()
    server.name = name
    return server


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--name", required=True, help="what to answer")
    ap.add_argument("--addr", action="append", required=True,
                    help="address to listen on (repeatable); bind the VIP "
                         "itself, not a wildcard, so UDP replies leave "
                         "from the VIP")
    ap.add_argument("--tcp-port", type=int, action="append", default=[])
    ap.add_argument("--udp-port", type=int, action="append", default=[])
    args = ap.parse_args()

    servers = []
    for addr in args.addr:
        for port in args.tcp_port:
            servers.append(make_server(TCPServer, TCPHandler, addr, port,
                                       args.name))
        for port in args.udp_port:
            servers.append(make_server(UDPServer, UDPHandler, addr, port,
                                       args.name))
    if not servers:
        ap.error("nothing to serve: give --tcp-port or --udp-port")

    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()

    print(f"{args.name}: serving {len(servers)} sockets", file=sys.stderr,
          flush=True)
    # Serve until killed: SIGTERM's default action ends the process at
    # once, and the kernel closes every socket.
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
