#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""XLB lab: hostile input, and a judge of what reached the reals.

  send KIND   craft frames of one kind of bad input (below) and send them
              out of an interface with an AF_PACKET socket, paced; prints
              one JSON object: kind, frames sent, start and end (wall
              clock, the clock tcpdump stamps packets with)
  judge       read the pcap files of the reals (tcpdump -w), and say for
              every packet whether it was a legitimate forward: JSON
  hold        keep TCP connections to some VIPs open and idle (one line
              answered first, so XLB tracks them), write their client
              ports, and once a file exists check that each still answers

Kinds (each frame addressed to a VIP of the lab, or for ipip to a real):
  trunc    lengths that disagree: IPv4/IPv6 length shorter than the TCP
           header, TCP data offset past the segment, UDP length longer or
           shorter than the datagram; the missing bytes follow as a
           trailer after the IP packet
  martian  sources no client has: 0/8, 127/8, 224/4, 240/4, broadcast,
           ::, ::1, ff00::/8, ::ffff:127.0.0.1
  ours     the source is a VIP or a local address of the node
  port0    TCP and UDP from source port 0
  rthdr    IPv6 with a routing header whose segments left is not 0
  icmp     ICMP errors that quote another address's flow (a held
           connection of the other VIP) or a flow never seen
  vlan     802.1Q tagged frames (VLANs the node does not have)
  qinq     802.1ad + 802.1Q (and 802.1Q twice) tagged frames
  ack      pure ACKs from random sources to FULLNAT VIPs
  ipip     IPIP, IP6IP6 and 4in6 to the reals' own addresses from an
           outer source that is no balancer's, inner SYNs from spoofed
           sources

Python 3 standard library only.
"""

import argparse
import errno
import ipaddress
import json
import os
import random
import socket
import struct
import sys
import time

ETH_P_IP = 0x0800
ETH_P_IPV6 = 0x86DD
ETH_P_8021Q = 0x8100
ETH_P_8021AD = 0x88A8
ETH_P_ARP = 0x0806
TCP_SYN = 0x02
TCP_ACK = 0x10
MARK = b"XLB-HOSTILE"


def ip(a):
    return ipaddress.ip_address(a)


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def pseudo(src, dst, proto, length):
    if src.version == 4:
        return src.packed + dst.packed + struct.pack("!BBH", 0, proto, length)
    return src.packed + dst.packed + struct.pack("!IxxxB", length, proto)


def tcp(src, dst, sport, dport, flags, payload=b"", doff=5, seq=None,
        ack=0, csum_len=None):
    """A TCP header (+ payload) with its checksum over the header and
    payload as given (csum_len: the length the pseudo-header says)."""
    seq = random.getrandbits(32) if seq is None else seq
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, doff << 4,
                      flags, 64240, 0, 0)
    seg = hdr + payload
    n = len(seg) if csum_len is None else csum_len
    c = csum(pseudo(src, dst, socket.IPPROTO_TCP, n) + seg)
    return seg[:16] + struct.pack("!H", c) + seg[18:]


def udp(src, dst, sport, dport, payload, length=None):
    n = 8 + len(payload) if length is None else length
    hdr = struct.pack("!HHHH", sport, dport, n, 0)
    c = csum(pseudo(src, dst, socket.IPPROTO_UDP, 8 + len(payload)) + hdr +
             payload) or 0xFFFF
    return struct.pack("!HHHH", sport, dport, n, c) + payload


def icmp4(typ, code, rest, quote):
    body = struct.pack("!BBH", typ, code, 0) + rest + quote
    return body[:2] + struct.pack("!H", csum(body)) + body[4:]


def icmp6(src, dst, typ, code, rest, quote):
    body = struct.pack("!BBH", typ, code, 0) + rest + quote
    c = csum(pseudo(src, dst, 58, len(body)) + body)
    return body[:2] + struct.pack("!H", c) + body[4:]


def ipv4(src, dst, proto, payload, total=None, ttl=64):
    n = 20 + len(payload) if total is None else total
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, n, random.getrandbits(16),
                      0x4000, ttl, proto, 0, src.packed, dst.packed)
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + payload


def ipv6(src, dst, nxt, payload, plen=None, hlim=64):
    n = len(payload) if plen is None else plen
    return struct.pack("!IHBB16s16s", 0x60000000, n, nxt, hlim, src.packed,
                       dst.packed) + payload


def l3(src, dst, proto, payload, **kw):
    if src.version == 4:
        return ETH_P_IP, ipv4(src, dst, proto, payload, **kw)
    return ETH_P_IPV6, ipv6(src, dst, proto, payload, **kw)


def syn(src, dst, sport, dport):
    """A SYN that carries the mark as data (legal TCP)."""
    return l3(src, dst, socket.IPPROTO_TCP,
              tcp(src, dst, sport, dport, TCP_SYN, MARK))


class Lab:
    """Addresses of the lab (tools/lab/lib.sh), from the command line."""

    def __init__(self, a):
        self.client4 = ip(a.client4)
        self.client6 = ip(a.client6)
        self.tun4 = ip(a.tunnel_vip4)
        self.tun6 = ip(a.tunnel_vip6)
        self.nat4 = ip(a.nat_vip4)
        self.nat6 = ip(a.nat_vip6)
        self.laddrs = [ip(x) for x in a.laddrs.split(",") if x]
        self.reals4 = [ip(x) for x in a.reals4.split(",") if x]
        self.reals6 = [ip(x) for x in a.reals6.split(",") if x]
        self.tport = a.tcp_port
        self.uport = a.udp_port
        self.held = {}
        if a.held:
            with open(a.held) as f:
                for line in f:
                    w = line.split()
                    if len(w) == 2:
                        self.held[w[0]] = int(w[1])

    def vips(self, family=None):
        v = [self.tun4, self.nat4, self.tun6, self.nat6]
        return [x for x in v if family is None or x.version == family]

    def client(self, family):
        return self.client4 if family == 4 else self.client6


def rport():
    return random.randint(20000, 60999)


def kind_trunc(lab):
    out = []
    for vip in lab.vips():
        c = lab.client(vip.version)
        full = tcp(c, vip, rport(), lab.tport, TCP_SYN)
        fam, pkt = l3(c, vip, socket.IPPROTO_TCP, full[:12])
        # The IP length ends inside the TCP header; the rest of it, and
        # the mark, follow the packet as a trailer.
        out.append((fam, pkt + full[12:] + MARK))
        # Data offset 15 (60 bytes) in a 20-byte segment.
        seg = tcp(c, vip, rport(), lab.tport, TCP_SYN, doff=15)
        fam, pkt = l3(c, vip, socket.IPPROTO_TCP, seg)
        out.append((fam, pkt + b"\x01" * 40 + MARK))
        # UDP: the length says 8 + 24, the IP packet holds 8 + 4.
        data = MARK + b"\0" * 13
        dg = udp(c, vip, rport(), lab.uport, data[:4], length=8 + len(data))
        fam, pkt = l3(c, vip, socket.IPPROTO_UDP, dg)
        out.append((fam, pkt + data[4:]))
        # UDP: a length below the header's own.
        dg = udp(c, vip, rport(), lab.uport, MARK, length=4)
        fam, pkt = l3(c, vip, socket.IPPROTO_UDP, dg)
        out.append((fam, pkt))
    return out


MARTIANS4 = ["0.0.0.0", "0.1.2.3", "127.0.0.1", "127.5.5.5", "224.0.0.5",
             "239.1.2.3", "240.0.0.1", "255.255.255.255"]
MARTIANS6 = ["::", "::1", "ff02::1", "ff0e::5", "::ffff:127.0.0.1"]


def kind_martian(lab):
    out = []
    for vip in lab.vips():
        for s in MARTIANS4 if vip.version == 4 else MARTIANS6:
            out.append(syn(ip(s), vip, rport(), lab.tport))
    return out


def kind_ours(lab):
    out = []
    for vip in lab.vips():
        ours = [v for v in lab.vips(vip.version)]
        ours += [a for a in lab.laddrs if a.version == vip.version]
        for s in ours:
            out.append(syn(s, vip, rport(), lab.tport))
    return out


def kind_port0(lab):
    out = []
    for vip in lab.vips():
        c = lab.client(vip.version)
        out.append(syn(c, vip, 0, lab.tport))
        out.append(l3(c, vip, socket.IPPROTO_UDP,
                      udp(c, vip, 0, lab.uport, MARK)))
    return out


def kind_rthdr(lab):
    out = []
    for vip in lab.vips(6):
        c = lab.client6
        nxt = ip("fd00:100::99")
        seg = tcp(c, vip, rport(), lab.tport, TCP_SYN, MARK)
        # Segment routing header (type 4): segments [nxt, vip], one left.
        srh = struct.pack("!BBBBBBH", socket.IPPROTO_TCP, 4, 4, 1, 1, 0, 0)
        srh += nxt.packed + vip.packed
        out.append((ETH_P_IPV6, ipv6(c, vip, 43, srh + seg)))
        # Hop-by-hop options, then a type 0 routing header, 1 left.
        hbh = struct.pack("!BB", 43, 0) + b"\x01\x04\0\0\0\0"
        rh0 = struct.pack("!BBBBI", socket.IPPROTO_TCP, 2, 0, 1, 0)
        rh0 += nxt.packed
        out.append((ETH_P_IPV6, ipv6(c, vip, 0, hbh + rh0 + seg)))
        # Type 2 (mobility), one address, one left.
        rh2 = struct.pack("!BBBBI", socket.IPPROTO_TCP, 2, 2, 1, 0)
        rh2 += nxt.packed
        out.append((ETH_P_IPV6, ipv6(c, vip, 43, rh2 + seg)))
    return out


def quote4(src, dst, sport, dport, l4_bytes):
    seg = tcp(src, dst, sport, dport, TCP_ACK | 0x08, b"x" * 100)
    return ipv4(src, dst, socket.IPPROTO_TCP, seg)[:20 + l4_bytes]


def quote6(src, dst, sport, dport, l4_bytes):
    seg = tcp(src, dst, sport, dport, TCP_ACK | 0x08, b"x" * 100)
    return ipv6(src, dst, socket.IPPROTO_TCP, seg)[:40 + l4_bytes]


def kind_icmp(lab):
    """Errors from a "router" (the client's own address) about packets
    the VIPs sent: to the wrong address, or about a flow never seen."""
    out = []
    r4, r6 = lab.client4, lab.client6
    frag = struct.pack("!HH", 0, 1400)  # fragmentation needed, MTU 1400

    def err4(to, qsrc, qport, l4b):
        q = quote4(qsrc, lab.client4, lab.tport, qport, l4b)
        return l3(r4, to, socket.IPPROTO_ICMP, icmp4(3, 4, frag, q))

    def err6(to, qsrc, qport, l4b):
        q = quote6(qsrc, lab.client6, lab.tport, qport, l4b)
        mtu = struct.pack("!I", 1400)
        return l3(r6, to, 58, icmp6(r6, to, 2, 0, mtu, q))

    held_t = lab.held.get(str(lab.tun4))
    held_n = lab.held.get(str(lab.nat4))
    for l4b in (8, 20):
        if held_t:
            # The tunnel VIP's flow, sent to the FULLNAT VIP and to a
            # local address.
            out.append(err4(lab.nat4, lab.tun4, held_t, l4b))
            for a in lab.laddrs:
                if a.version == 4:
                    out.append(err4(a, lab.tun4, held_t, l4b))
        if held_n:
            # The FULLNAT VIP's flow, sent to the tunnel VIP.
            out.append(err4(lab.tun4, lab.nat4, held_n, l4b))
        # Flows nobody opened.
        out.append(err4(lab.tun4, lab.tun4, unseen(lab), l4b))
        out.append(err4(lab.nat4, lab.nat4, unseen(lab), l4b))
        out.append(err6(lab.tun6, lab.tun6, unseen(lab), l4b))
        out.append(err6(lab.nat6, lab.nat6, unseen(lab), l4b))
        # Port unreachable too, not only "too big".
        q = quote4(lab.tun4, lab.client4, lab.tport, unseen(lab), l4b)
        out.append(l3(r4, lab.tun4, socket.IPPROTO_ICMP,
                      icmp4(3, 3, b"\0" * 4, q)))
    return out


def unseen(lab):
    while True:
        p = rport()
        if p not in lab.held.values():
            return p


def kind_vlan(lab):
    out = []
    src4 = ip("10.99.0.3")
    for vid in (1, 100, 4094):
        for vip in (lab.tun4, lab.nat4):
            fam, pkt = syn(src4, vip, rport(), lab.tport)
            out.append((ETH_P_8021Q, struct.pack("!HH", vid, fam) + pkt))
    return out


def kind_qinq(lab):
    out = []
    src4 = ip("10.99.0.3")
    for outer in (ETH_P_8021AD, ETH_P_8021Q):
        for vip in (lab.tun4, lab.nat4):
            fam, pkt = syn(src4, vip, rport(), lab.tport)
            tags = struct.pack("!HHHH", 200, ETH_P_8021Q, 100, fam)
            out.append((outer, tags + pkt))
    return out


def kind_ack(lab):
    out = []
    for vip in (lab.nat4, lab.nat6):
        if vip.version == 4:
            src = ip(f"10.212.{random.randint(0, 255)}."
                     f"{random.randint(1, 254)}")
        else:
            src = ip(f"fd00:212::{random.getrandbits(16):x}:"
                     f"{random.getrandbits(16):x}")
        seg = tcp(src, vip, rport(), lab.tport, TCP_ACK,
                  ack=random.getrandbits(32))
        out.append(l3(src, vip, socket.IPPROTO_TCP, seg))
    return out


def kind_ipip(lab):
    out = []
    inner4 = ip(f"10.213.{random.randint(0, 255)}.{random.randint(1, 254)}")
    inner6 = ip(f"fd00:213::{random.getrandbits(16):x}")
    for real in lab.reals4:
        _, pkt = syn(inner4, lab.tun4, rport(), lab.tport)
        out.append((ETH_P_IP, ipv4(lab.client4, real, 4, pkt)))
    for real in lab.reals6:
        _, pkt = syn(inner6, lab.tun6, rport(), lab.tport)
        out.append((ETH_P_IPV6, ipv6(lab.client6, real, 41, pkt)))
        _, pkt = syn(inner4, lab.tun4, rport(), lab.tport)
        out.append((ETH_P_IPV6, ipv6(lab.client6, real, 4, pkt)))
    return out


KINDS = {
    "trunc": kind_trunc, "martian": kind_martian, "ours": kind_ours,
    "port0": kind_port0, "rthdr": kind_rthdr, "icmp": kind_icmp,
    "vlan": kind_vlan, "qinq": kind_qinq, "ack": kind_ack, "ipip": kind_ipip,
}


def mac(s):
    return bytes(int(x, 16) for x in s.split(":"))


def cmd_send(a):
    lab = Lab(a)
    make = KINDS[a.kind]
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    sock.bind((a.ifname, 0))
    eth = mac(a.dmac) + mac(a.smac)
    sent = 0
    frames = []
    start = time.time()
    while sent < a.count:
        if not frames:
            frames = make(lab)
            random.shuffle(frames)
        fam, pkt = frames.pop()
        frame = eth + struct.pack("!H", fam) + pkt
        # A full queue on the way (ENOBUFS) dropped the frame: again.
        for _ in range(1000):
            try:
                sock.send(frame)
                break
            except OSError as e:
                if e.errno != errno.ENOBUFS:
                    raise
                time.sleep(0.002)
        else:
            raise SystemExit(f"{a.ifname}: no buffer space for 2 s")
        sent += 1
        # Paced, so that no queue on the way overflows.
        if sent % a.burst == 0:
            time.sleep(0.001)
    end = time.time()
    print(json.dumps({"kind": a.kind, "sent": sent, "start": start,
                      "end": end}))
    return 0


# --- judge -------------------------------------------------------------

def read_pcap(path):
    """(timestamp, frame) of every record of a classic pcap file."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return
    magic = struct.unpack("<I", data[:4])[0]
    if magic in (0xA1B2C3D4, 0xA1B23C4D):
        end = "<"
    else:
        end = ">"
        magic = struct.unpack(">I", data[:4])[0]
    nano = magic == 0xA1B23C4D
    link = struct.unpack(end + "I", data[20:24])[0]
    if link != 1:
        raise ValueError(f"{path}: link type {link}, not Ethernet")
    off = 24
    while off + 16 <= len(data):
        sec, frac, caplen, _ = struct.unpack(end + "IIII",
                                             data[off:off + 16])
        off += 16
        ts = sec + frac / (1e9 if nano else 1e6)
        yield ts, data[off:off + caplen]
        off += caplen


ND_TYPES = {130, 131, 132, 133, 134, 135, 136, 137, 143}


class Pkt:
    """What the judge needs of one captured frame."""

    def __init__(self, frame):
        self.tags = 0
        self.l3 = None
        self.why = None  # malformed: why
        self.proto = None
        self.src = self.dst = None
        self.sport = self.dport = None
        self.flags = 0
        self.icmp_type = None
        self.ext = False
        self.payload = b""
        off = 12
        typ = struct.unpack("!H", frame[off:off + 2])[0]
        while typ in (ETH_P_8021Q, ETH_P_8021AD) and off + 6 <= len(frame):
            self.tags += 1
            off += 4
            typ = struct.unpack("!H", frame[off:off + 2])[0]
        self.ethertype = typ
        off += 2
        self.l3 = typ
        if typ == ETH_P_IP:
            self.ipv4(frame[off:])
        elif typ == ETH_P_IPV6:
            self.ipv6(frame[off:])

    def ipv4(self, b):
        if len(b) < 20:
            self.why = "short IPv4 header"
            return
        ihl = (b[0] & 15) * 4
        total = struct.unpack("!H", b[2:4])[0]
        self.src, self.dst = ip(b[12:16]), ip(b[16:20])
        self.proto = b[9]
        if ihl < 20 or total < ihl or total > len(b):
            self.why = f"IPv4 length {total} / header {ihl} / frame {len(b)}"
            return
        self.l4(b[ihl:total])

    def ipv6(self, b):
        if len(b) < 40:
            self.why = "short IPv6 header"
            return
        plen = struct.unpack("!H", b[4:6])[0]
        self.src, self.dst = ip(b[8:24]), ip(b[24:40])
        nxt = b[6]
        if 40 + plen > len(b):
            self.why = f"IPv6 payload length {plen} / frame {len(b)}"
            return
        body = b[40:40 + plen]
        while nxt in (0, 43, 60) and len(body) >= 8:
            self.ext = True
            hl = (body[1] + 1) * 8
            nxt, body = body[0], body[hl:]
        self.proto = nxt
        self.l4(body)

    def l4(self, b):
        if self.proto == socket.IPPROTO_TCP:
            if len(b) < 20:
                self.why = f"TCP header cut at {len(b)}"
                return
            self.sport, self.dport = struct.unpack("!HH", b[:4])
            doff = (b[12] >> 4) * 4
            self.flags = b[13]
            if doff < 20 or doff > len(b):
                self.why = f"TCP data offset {doff} in {len(b)} bytes"
                return
            self.payload = b[doff:]
        elif self.proto == socket.IPPROTO_UDP:
            if len(b) < 8:
                self.why = f"UDP header cut at {len(b)}"
                return
            self.sport, self.dport, n = struct.unpack("!HHH", b[:6])
            if n != len(b):
                self.why = f"UDP length {n} in {len(b)} bytes"
                return
            self.payload = b[8:]
        elif self.proto in (socket.IPPROTO_ICMP, 58) and b:
            self.icmp_type = b[0]
        else:
            self.payload = b

    def describe(self):
        s = f"{self.src}"
        if self.sport is not None:
            s += f":{self.sport}"
        s += f" > {self.dst}"
        if self.dport is not None:
            s += f":{self.dport}"
        s += f" proto {self.proto}"
        if self.proto == socket.IPPROTO_TCP:
            s += f" flags {self.flags:#04x}"
        if self.icmp_type is not None:
            s += f" type {self.icmp_type}"
        if self.tags:
            s += f" tags {self.tags}"
        if self.ext:
            s += " ext-headers"
        if self.why:
            s += f" ({self.why})"
        return s


def cmd_judge(a):
    lab = Lab(a)
    windows = []
    with open(a.windows) as f:
        for line in f:
            if line.strip():
                w = json.loads(line)
                windows.append((w["start"], w["end"] + a.grace, w["kind"]))
    clients = {lab.client4, lab.client6}
    tunnel_vips = {lab.tun4, lab.tun6}
    reals = set(lab.reals4 + lab.reals6)
    ports = {lab.tport, lab.uport}
    res = {"ignored": 0, "legit": 0, "legit_tunnel": 0, "legit_fullnat": 0,
           "kinds": {w[2]: {"reached": 0, "samples": []} for w in windows},
           "other": {"reached": 0, "samples": []}}
    opened = set()

    def bad(where, p, real):
        where["reached"] += 1
        if len(where["samples"]) < a.samples:
            where["samples"].append(f"{real}: {p.describe()}")

    for path in a.pcap:
        real = os.path.basename(path).split(".")[0]
        for ts, frame in read_pcap(path):
            if len(frame) < 14:
                continue
            p = Pkt(frame)
            if p.l3 == ETH_P_ARP and not p.tags:
                res["ignored"] += 1
                continue
            if (p.l3 == ETH_P_IPV6 and not p.tags and not p.why and
                    p.proto == 58 and p.icmp_type in ND_TYPES):
                res["ignored"] += 1
                continue
            kind = next((k for s, e, k in windows if s <= ts <= e), None)
            if kind:
                bad(res["kinds"][kind], p, real)
                continue
            # Outside the bad input's windows: the normal traffic only.
            ok = (p.l3 in (ETH_P_IP, ETH_P_IPV6) and not p.tags and
                  not p.why and not p.ext and
                  p.proto in (socket.IPPROTO_TCP, socket.IPPROTO_UDP) and
                  p.sport and p.dport in ports and MARK not in p.payload)
            key = (p.proto, p.src, p.sport, p.dst, p.dport)
            if ok and p.proto == socket.IPPROTO_TCP:
                if p.flags & (TCP_SYN | TCP_ACK) == TCP_SYN:
                    opened.add(key)
                ok = key in opened
            if ok and p.dst in tunnel_vips and p.src in clients:
                res["legit_tunnel"] += 1
            elif ok and p.src in lab.laddrs and p.dst in reals:
                res["legit_fullnat"] += 1
            else:
                bad(res["other"], p, real)
                continue
            res["legit"] += 1
    res["reached"] = (res["other"]["reached"] +
                      sum(k["reached"] for k in res["kinds"].values()))
    print(json.dumps(res))
    return 0


# --- decap-stats -------------------------------------------------------

def bpftool(*args):
    import subprocess
    out = subprocess.run(["bpftool", "-j", *args], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def cmd_decap_stats(a):
    """The decap program's reason counters on an interface of this
    namespace, by the names of include/xlb_abi.h's XLB_DECAP_REASONS."""
    import re
    with open(a.abi) as f:
        text = f.read()
    m = re.search(r"#define XLB_DECAP_REASONS\(X\)(.*?)\n\n", text, re.S)
    names = re.findall(r'X\(\w+,\s*"([^"]+)"\)', m.group(1))
    prog = None
    for x in bpftool("net", "show", "dev", a.dev)[0].get("xdp", []):
        prog = x.get("id", prog)
    if prog is None:
        raise SystemExit(f"no XDP program on {a.dev}")
    res = {n: 0 for n in names}
    for mid in bpftool("prog", "show", "id", str(prog)).get("map_ids", []):
        if bpftool("map", "show", "id", str(mid)).get("name") != \
                "decap_stats":
            continue
        for e in bpftool("map", "dump", "id", str(mid)):
            e = e.get("formatted", e)
            key = e["key"]
            if isinstance(key, list):
                key = int.from_bytes(bytes(int(x, 16) for x in key),
                                     "little")
            total = 0
            for v in e["values"]:
                val = v["value"]
                if isinstance(val, list):
                    val = int.from_bytes(bytes(int(x, 16) for x in val),
                                         "little")
                total += val
            if key < len(names):
                res[names[key]] += total
    print(json.dumps(res))
    return 0


# --- hold --------------------------------------------------------------

def cmd_hold(a):
    conns = []
    for vip in a.vip:
        fam = socket.AF_INET6 if ":" in vip else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.settimeout(a.timeout)
        s.connect((vip, a.port))
        conns.append((vip, s))
    res = {"conns": [], "ok": 0}
    for vip, s in conns:
        s.sendall(b"ping 1\n")
        name = s.recv(256).decode("ascii", "replace").split()[0]
        res["conns"].append({"vip": vip, "port": s.getsockname()[1],
                             "real": name})
    with open(a.ready_file + ".tmp", "w") as f:
        for c in res["conns"]:
            f.write(f"{c['vip']} {c['port']}\n")
    os.rename(a.ready_file + ".tmp", a.ready_file)
    deadline = time.monotonic() + a.duration
    while not os.path.exists(a.go_file) and time.monotonic() < deadline:
        time.sleep(0.05)
    for (vip, s), c in zip(conns, res["conns"]):
        try:
            s.sendall(b"ping 2\n")
            words = s.recv(256).decode("ascii", "replace").split()
            c["after"] = " ".join(words)
            if words == [c["real"], "2"]:
                res["ok"] += 1
        except OSError as e:
            c["after"] = f"{type(e).__name__}({e.errno})"
        s.close()
    print(json.dumps(res))
    return 0 if res["ok"] == len(conns) else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    labp = argparse.ArgumentParser(add_help=False)
    labp.add_argument("--client4", default="10.99.0.2")
    labp.add_argument("--client6", default="fd00:99::2")
    labp.add_argument("--tunnel-vip4", default="10.100.0.10")
    labp.add_argument("--tunnel-vip6", default="fd00:100::10")
    labp.add_argument("--nat-vip4", default="10.100.0.20")
    labp.add_argument("--nat-vip6", default="fd00:100::20")
    labp.add_argument("--laddrs", default="10.97.0.1,10.97.0.2,fd00:97::1")
    labp.add_argument("--reals4", default="10.98.1.2,10.98.2.2,10.98.3.2")
    labp.add_argument("--reals6",
                      default="fd00:98:1::2,fd00:98:2::2,fd00:98:3::2")
    labp.add_argument("--tcp-port", type=int, default=80)
    labp.add_argument("--udp-port", type=int, default=5353)
    labp.add_argument("--held", help="file of 'VIP PORT' lines (hold)")

    sp = sub.add_parser("send", parents=[labp])
    sp.add_argument("kind", choices=sorted(KINDS))
    sp.add_argument("--ifname", required=True)
    sp.add_argument("--smac", required=True)
    sp.add_argument("--dmac", required=True)
    sp.add_argument("--count", type=int, default=1000)
    sp.add_argument("--burst", type=int, default=16,
                    help="frames between 1 ms pauses")
    sp.add_argument("--seed", type=int, default=None)

    jp = sub.add_parser("judge", parents=[labp])
    jp.add_argument("--windows", required=True,
                    help="the JSON lines `send` printed")
    jp.add_argument("--grace", type=float, default=0.5,
                    help="seconds after a window still counted in it")
    jp.add_argument("--samples", type=int, default=4)
    jp.add_argument("pcap", nargs="+")

    hp = sub.add_parser("hold")
    hp.add_argument("--vip", action="append", required=True)
    hp.add_argument("--port", type=int, default=80)
    hp.add_argument("--timeout", type=float, default=3.0)
    hp.add_argument("--duration", type=float, default=120.0,
                    help="give up waiting for --go-file after this")
    hp.add_argument("--ready-file", required=True)
    hp.add_argument("--go-file", required=True,
                    help="check the connections once this file exists")

    dp = sub.add_parser("decap-stats")
    dp.add_argument("--abi", required=True, help="include/xlb_abi.h")
    dp.add_argument("--dev", default="eth0")

    a = ap.parse_args()
    if getattr(a, "seed", None) is not None:
        random.seed(a.seed)
    return {"send": cmd_send, "judge": cmd_judge, "hold": cmd_hold,
            "decap-stats": cmd_decap_stats}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
