#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""XLB lab test server: tells the client which real answered.

Line protocol, the same over TCP and UDP (one datagram = one line):
  "ping N"  -> "NAME N"
  "peer"    -> "NAME ADDR": the address the request came from, as the
               server sees it (a FULLNAT real sees XLB's local address)
  "late"    -> "NAME", over UDP 0.3 s later (the client is gone by then:
               its kernel answers with an ICMP port unreachable)
  anything else -> "NAME"
A TCP connection may carry any number of lines, so one server serves both
short connections (one line, close) and long-lived ones (a line every
few ms for minutes). Every connection gets its own thread.

A TCP connection whose first line is an HTTP request (GET, HEAD or POST)
is served as HTTP/1.1 instead, for load clients such as wrk or curl; the
body is one line:
  /         "NAME"
  /peer     "NAME ADDR", as above
  /mss      "NAME MSS": the connection's TCP_MAXSEG, the segment size this
            server sends with (lowered by an MSS clamp on the way)
  /bytes/N  N bytes (at most 16 MiB), for large responses
  POST      "NAME N": the N bytes of the request's body were received
Keep-alive unless the client says "Connection: close" (or speaks 1.0).

With --log-peers, every TCP connection and UDP datagram adds a line
"peer tcp|udp ADDR PORT" to standard error: the server's access log.

Python 3 standard library only.
"""

import argparse
import socket
import socketserver
import sys
import threading

HTTP_METHODS = (b"GET ", b"HEAD ", b"POST ")
HTTP_MAX_BYTES = 16 << 20
LOG_LOCK = threading.Lock()


def answer(name, line, peer):
    """The reply to one request line (without the newline)."""
    words = line.split()
    if len(words) == 2 and words[0] == "ping":
        return f"{name} {words[1]}"
    if words == ["peer"]:
        return f"{name} {peer}"
    return name


def log_peer(server, proto, client_address):
    if server.log_peers:
        with LOG_LOCK:
            print(f"peer {proto} {client_address[0]} {client_address[1]}",
                  file=sys.stderr, flush=True)


def http_body(name, path, conn, peer):
    """(status, body) for one HTTP request path."""
    if path == "/":
        return "200 OK", f"{name}\n".encode()
    if path == "/peer":
        return "200 OK", f"{name} {peer}\n".encode()
    if path == "/mss":
        mss = conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG)
        return "200 OK", f"{name} {mss}\n".encode()
    if path.startswith("/bytes/") and path[7:].isdigit() \
            and int(path[7:]) <= HTTP_MAX_BYTES:
        return "200 OK", b"x" * int(path[7:])
    return "404 Not Found", f"{name}: no {path}\n".encode()


class TCPHandler(socketserver.StreamRequestHandler):
    # A client that stops talking must not keep a thread forever.
    timeout = 120

    def handle(self):
        log_peer(self.server, "tcp", self.client_address)
        peer = self.client_address[0]
        try:
            for raw in self.rfile:
                if raw.startswith(HTTP_METHODS):
                    self.http(raw)
                    return
                line = raw.decode("ascii", "replace").strip()
                reply = answer(self.server.name, line, peer) + "\n"
                self.wfile.write(reply.encode())
        except (ConnectionError, socket.timeout):
            pass

    def http(self, raw):
        """Serve HTTP/1.1 requests until the client closes or asks to."""
        while raw:
            words = raw.decode("ascii", "replace").split()
            if len(words) != 3:
                return
            method, path, version = words
            close = version != "HTTP/1.1"
            length = 0
            for hdr in self.rfile:
                if hdr in (b"\r\n", b"\n"):
                    break
                key, _, value = hdr.decode("ascii", "replace").partition(":")
                key, value = key.strip().lower(), value.strip().lower()
                if key == "connection":
                    close = value != "keep-alive"
                elif key == "content-length" and value.isdigit():
                    length = int(value)
            if method == "POST":
                got = 0
                while got < length:
                    chunk = self.rfile.read(min(length - got, 65536))
                    if not chunk:
                        return
                    got += len(chunk)
                status, body = "200 OK", f"{self.server.name} {got}\n".encode()
            else:
                status, body = http_body(self.server.name, path,
                                         self.request, self.client_address[0])
            head = (f"HTTP/1.1 {status}\r\nContent-Type: text/plain\r\n"
                    f"Content-Length: {len(body)}\r\n"
                    f"Connection: {'close' if close else 'keep-alive'}"
                    "\r\n\r\n").encode()
            # One write: headers and body leave in as few segments as
            # the path allows.
            self.wfile.write(head if method == "HEAD" else head + body)
            if close:
                return
            raw = self.rfile.readline()


class UDPHandler(socketserver.BaseRequestHandler):
    def handle(self):
        data, sock = self.request
        log_peer(self.server, "udp", self.client_address)
        line = data.decode("ascii", "replace").strip()
        reply = answer(self.server.name, line, self.client_address[0])
        out = (reply + "\n").encode()
        if line == "late":
            threading.Timer(0.3, sock.sendto,
                            (out, self.client_address)).start()
            return
        sock.sendto(out, self.client_address)


class TCPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    # Hundreds of clients may connect at once: a short backlog would
    # turn a burst into SYN retransmits of a second or more.
    request_queue_size = 1024


class UDPServer(socketserver.UDPServer):
    # UDP requests are answered inline: one datagram, one reply, no thread.
    allow_reuse_address = True


def make_server(cls, handler, addr, port, name, log_peers):
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
    server.log_peers = log_peers
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
    ap.add_argument("--log-peers", action="store_true",
                    help="log every client address and port to stderr")
    args = ap.parse_args()

    servers = []
    for addr in args.addr:
        for port in args.tcp_port:
            servers.append(make_server(TCPServer, TCPHandler, addr, port,
                                       args.name, args.log_peers))
        for port in args.udp_port:
            servers.append(make_server(UDPServer, UDPHandler, addr, port,
                                       args.name, args.log_peers))
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
