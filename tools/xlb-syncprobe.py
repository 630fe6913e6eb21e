#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""XLB session sync probe: attacks a node's sync port the way the
end-to-end tests need. Run it inside a node's network namespace (root).

  capture   sniff sync datagrams to and from this namespace (AF_PACKET)
            and save each UDP payload with its source and destination
            (one JSON object a line)
  replay    resend captured datagrams exactly; --spoof sends them from
            their original source address and port (raw IP socket), so
            they pass the peer check and meet the replay check
  tamper    flip one byte of a captured datagram and resend it spoofed:
            the tag check must drop it
  forge     a well-formed message under a random key (or --key FILE),
            spoofed from a listed peer: bad_auth (or, with the right
            key and --skew, stale)
  unlisted  a well-formed message from an address that is not a node

The wire format is docs/SYNC.md's; user/sync.c must agree with it.
Python 3 standard library only.
"""

import argparse
import hashlib
import hmac
import ipaddress
import json
import os
import select
import socket
import struct
import sys
import time

MAGIC = 0x584C4253  # "XLBS"
VERSION = 1
HDR = struct.Struct("!IBBH32s32sQQQ")  # 96 bytes
TAG_LEN = 32
TYPES = {1: "hello", 2: "sessions", 3: "bulk_req", 4: "bulk_data"}
ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800
ETH_P_IPV6 = 0x86DD
PACKET_OUTGOING = 4

assert HDR.size == 96


def parse_hostport(s):
    """"ADDR:PORT" or "[V6]:PORT" -> (addr, port)."""
    if s.startswith("["):
        addr, _, port = s[1:].partition("]:")
    else:
        addr, _, port = s.rpartition(":")
    ipaddress.ip_address(addr)
    return addr, int(port)


def describe(payload):
    """Header fields of a sync datagram, or None if it is not one."""
    if len(payload) < HDR.size + TAG_LEN:
        return None
    magic, ver, typ, plen, frm, to, epoch, seq, sent = HDR.unpack_from(payload)
    if magic != MAGIC:
        return None
    return {"type": TYPES.get(typ, str(typ)), "version": ver,
            "from": frm.rstrip(b"\0").decode(errors="replace"),
            "to": to.rstrip(b"\0").decode(errors="replace"),
            "epoch": epoch, "seq": seq, "sent_ms": sent, "plen": plen}


def build(key, typ, from_name, to_name, payload, epoch=None, seq=1,
          sent_ms=None):
    """A sealed message: header, payload, HMAC-SHA256 over both."""
    now = time.time_ns()
    hdr = HDR.pack(MAGIC, VERSION, typ, len(payload),
                   from_name.encode()[:31], to_name.encode()[:31],
                   now if epoch is None else epoch, seq,
                   now // 1000000 if sent_ms is None else sent_ms)
    msg = hdr + payload
    return msg + hmac.new(key, msg, hashlib.sha256).digest()


def hello(ready=True):
    return bytes([1 if ready else 0, 0, 0, 0])


# ---- Spoofed sending ------------------------------------------------------

def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def udp_header(src, sport, dst, dport, payload):
    length = 8 + len(payload)
    s, d = ipaddress.ip_address(src), ipaddress.ip_address(dst)
    if s.version == 4:
        pseudo = s.packed + d.packed + struct.pack("!BBH", 0, 17, length)
    else:
        pseudo = s.packed + d.packed + struct.pack("!I3xB", length, 17)
    hdr = struct.pack("!HHHH", sport, dport, length, 0)
    c = csum(pseudo + hdr + payload) or 0xFFFF
    return struct.pack("!HHHH", sport, dport, length, c)


def send_spoofed(src, sport, dst, dport, payload):
    """UDP from src:sport, whatever this host's addresses are."""
    udp = udp_header(src, sport, dst, dport, payload)
    s, d = ipaddress.ip_address(src), ipaddress.ip_address(dst)
    if s.version != d.version:
        raise SystemExit("spoof: %s and %s are of different families"
                         % (src, dst))
    if s.version == 4:
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp) + len(payload),
                         0, 0x4000, 64, 17, 0, s.packed, d.packed)
        sock = socket.socket(socket.AF_INET, socket.SOCK_RAW,
                             socket.IPPROTO_RAW)
        sock.sendto(ip + udp + payload, (dst, 0))
    else:
        # IPPROTO_RAW on an IPv6 socket means: the header is ours.
        ip = struct.pack("!IHBB16s16s", 6 << 28, len(udp) + len(payload), 17,
                         64, s.packed, d.packed)
        sock = socket.socket(socket.AF_INET6, socket.SOCK_RAW,
                             socket.IPPROTO_RAW)
        sock.sendto(ip + udp + payload, (dst, 0))
    sock.close()


def send_plain(dst, dport, payload, src=None):
    fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
    with socket.socket(fam, socket.SOCK_DGRAM) as sock:
        if src:
            sock.bind(src)
        sock.sendto(payload, (dst, dport))
        return sock.getsockname()


# ---- Capture ---------------------------------------------------------------

def parse_l3(proto, pkt):
    """(src, dst, sport, dport, udp payload) of a UDP packet, or None."""
    if proto == ETH_P_IP and len(pkt) >= 20:
        ihl = (pkt[0] & 0x0F) * 4
        if pkt[9] != 17 or (struct.unpack_from("!H", pkt, 6)[0] & 0x3FFF):
            return None  # not UDP, or a fragment
        src, dst = socket.inet_ntoa(pkt[12:16]), socket.inet_ntoa(pkt[16:20])
        total = struct.unpack_from("!H", pkt, 2)[0]
        l4 = pkt[ihl:total]
    elif proto == ETH_P_IPV6 and len(pkt) >= 40:
        if pkt[6] != 17:
            return None  # extension headers are not followed
        src = socket.inet_ntop(socket.AF_INET6, pkt[8:24])
        dst = socket.inet_ntop(socket.AF_INET6, pkt[24:40])
        l4 = pkt[40:40 + struct.unpack_from("!H", pkt, 4)[0]]
    else:
        return None
    if len(l4) < 8:
        return None
    sport, dport, length = struct.unpack_from("!HHH", l4)
    return src, dst, sport, dport, l4[8:length]


def cmd_capture(args):
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM,
                         socket.htons(ETH_P_ALL))
    deadline = time.monotonic() + args.timeout
    got = 0
    with open(args.out, "w") as out:
        while got < args.count:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([sock], [], [], left)[0]:
                break
            pkt, addr = sock.recvfrom(65535)
            ifname, proto, pkttype = addr[0], addr[1], addr[2]
            # On lo every packet is seen leaving and arriving: keep one.
            if ifname == "lo" and pkttype == PACKET_OUTGOING:
                continue
            u = parse_l3(proto, pkt)
            if not u or args.port not in (u[2], u[3]):
                continue
            info = describe(u[4])
            if not info or (args.type and info["type"] != args.type):
                continue
            rec = {"src": u[0], "sport": u[2], "dst": u[1], "dport": u[3],
                   "ifname": ifname, "payload": u[4].hex()}
            rec.update(info)
            out.write(json.dumps(rec) + "\n")
            out.flush()
            got += 1
    print(json.dumps({"captured": got}))
    return 0 if got >= args.count else 1


def load(path, index):
    with open(path) as f:
        recs = [json.loads(line) for line in f if line.strip()]
    if not recs:
        raise SystemExit("%s: nothing captured" % path)
    return recs if index is None else [recs[index]]


def resend(rec, payload, spoof):
    if spoof:
        send_spoofed(rec["src"], rec["sport"], rec["dst"], rec["dport"],
                     payload)
    else:
        send_plain(rec["dst"], rec["dport"], payload)


def cmd_replay(args):
    recs = load(args.infile, args.index)
    for rec in recs:
        resend(rec, bytes.fromhex(rec["payload"]), args.spoof)
    print(json.dumps({"replayed": len(recs), "spoofed": args.spoof}))
    return 0


def cmd_tamper(args):
    recs = load(args.infile, args.index)
    for rec in recs:
        b = bytearray.fromhex(rec["payload"])
        # Default: the first payload byte (a header byte if there is
        # no payload), so the message stays well-formed.
        off = args.offset if args.offset is not None else \
            min(HDR.size, len(b) - TAG_LEN - 1)
        b[off] ^= 0x01
        resend(rec, bytes(b), True)
    print(json.dumps({"tampered": len(recs), "offset": off}))
    return 0


def forged(args):
    if args.key:
        with open(args.key, "rb") as f:
            key = f.read()
    else:
        key = os.urandom(32)
    sent_ms = time.time_ns() // 1000000 + args.skew * 1000
    return build(key, 1, args.from_name, args.to_name or "", hello(),
                 epoch=args.epoch, seq=args.seq, sent_ms=sent_ms)


def cmd_forge(args):
    dst, dport = parse_hostport(args.to)
    src, sport = parse_hostport(args.spoof_src)
    send_spoofed(src, sport, dst, dport, forged(args))
    print(json.dumps({"forged": 1, "from": args.spoof_src, "to": args.to}))
    return 0


def cmd_unlisted(args):
    dst, dport = parse_hostport(args.to)
    msg = forged(args)
    if args.spoof_src:
        src, sport = parse_hostport(args.spoof_src)
        send_spoofed(src, sport, dst, dport, msg)
        frm = args.spoof_src
    else:
        a = send_plain(dst, dport, msg)
        frm = "%s:%d" % (a[0], a[1])
    print(json.dumps({"sent": 1, "from": frm, "to": args.to}))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)

    p = sub.add_parser("capture", help="sniff sync datagrams")
    p.add_argument("--port", type=int, required=True,
                   help="the sync port (source or destination)")
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--out", required=True)
    p.add_argument("--type", choices=sorted(TYPES.values()),
                   help="only this message type")
    p.add_argument("--timeout", type=float, default=10.0,
                   help="seconds; exit 1 if fewer than --count came")
    p.set_defaults(fn=cmd_capture)

    for name, fn, hlp in (("replay", cmd_replay, "resend exactly"),
                          ("tamper", cmd_tamper, "flip a byte, resend")):
        p = sub.add_parser(name, help=hlp)
        p.add_argument("--in", dest="infile", required=True)
        p.add_argument("--index", type=int,
                       help="only this captured datagram (default: all)")
        if name == "replay":
            p.add_argument("--spoof", action="store_true",
                           help="from the original source address:port")
        else:
            p.add_argument("--offset", type=int,
                           help="byte to flip (default: first payload byte)")
        p.set_defaults(fn=fn)

    for name, fn in (("forge", cmd_forge), ("unlisted", cmd_unlisted)):
        p = sub.add_parser(name, help="send a crafted HELLO")
        p.add_argument("--to", required=True, help="ADDR:PORT")
        p.add_argument("--from-name", default="probe",
                       required=name == "forge")
        p.add_argument("--to-name", help="the recipient's node name")
        p.add_argument("--spoof-src", required=name == "forge",
                       help="ADDR:PORT the datagram claims to come from")
        p.add_argument("--key", help="seal with this key file "
                       "(default: a random key)")
        p.add_argument("--skew", type=int, default=0,
                       help="seconds added to the send time")
        p.add_argument("--epoch", type=int, help="default: now (ns)")
        p.add_argument("--seq", type=int, default=1)
        p.set_defaults(fn=fn)

    args = ap.parse_args()
    try:
        return args.fn(args)
    except PermissionError as e:
        print("xlb-syncprobe: %s (raw and packet sockets need root)" % e,
              file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
