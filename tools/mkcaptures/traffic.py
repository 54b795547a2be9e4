#!/usr/bin/python3
"""Tiny TCP traffic generator for make-real-captures.sh (stdlib only).

server: listens on [::]:PORT (dual stack) and speaks a line protocol:
    GET n        -> server sends n bytes
    PUT n        -> client sends n bytes, server answers "OK\\n"
    RR req resp  -> client sends req bytes, server answers resp bytes
client: runs a list of operations on ONE connection, e.g.
    traffic.py client 10.201.0.2 5001 get:1000000
    traffic.py client fd00:c0::2 5001 rr:10:200:3000:300   (count:req:resp:gap_ms)
    traffic.py client 10.201.0.2 5001 sleep:200 put:500000
"""
import os
import socket
import socketserver
import sys
import time

CHUNK = bytes(range(256)) * 256  # 64 KiB of filler
# congestion control for every socket (env TCP_CC, e.g. "cubic"); set per
# socket because a child netns can't change its default to a restricted one
CC = os.environ.get("TCP_CC", "").encode()


def set_cc(sock):
    if CC:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, CC)


def send_n(sock, n):
    while n > 0:
        k = min(n, len(CHUNK))
        sock.sendall(CHUNK[:k])
        n -= k


def recv_n(sock, n):
    while n > 0:
        b = sock.recv(min(n, 262144))
        if not b:
            raise ConnectionError("peer closed early")
        n -= len(b)


def recv_line(sock):
    line = b""
    while not line.endswith(b"\n"):
        b = sock.recv(1)
        if not b:
            return None
        line += b
    return line.decode().split()


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        s = self.request
        set_cc(s)
        while True:
            cmd = recv_line(s)
            if not cmd:
                return
            if cmd[0] == "GET":
                send_n(s, int(cmd[1]))
            elif cmd[0] == "PUT":
                recv_n(s, int(cmd[1]))
                s.sendall(b"OK\n")
            elif cmd[0] == "RR":
                recv_n(s, int(cmd[1]))
                send_n(s, int(cmd[2]))
            else:
                return


class Server(socketserver.ThreadingTCPServer):
    address_family = socket.AF_INET6
    allow_reuse_address = True
    daemon_threads = True

    def server_bind(self):
        # one socket for IPv4 and IPv6
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        set_cc(self.socket)
        super().server_bind()


def client(host, port, ops):
    fam, typ, proto, _, addr = socket.getaddrinfo(host, int(port), 0, socket.SOCK_STREAM)[0]
    s = socket.socket(fam, typ, proto)
    set_cc(s)  # before connect, so the SYN already uses it
    s.settimeout(30)
    s.connect(addr)
    for op in ops:
        f = op.split(":")
        if f[0] == "get":
            s.sendall(b"GET %d\n" % int(f[1]))
            recv_n(s, int(f[1]))
        elif f[0] == "put":
            s.sendall(b"PUT %d\n" % int(f[1]))
            send_n(s, int(f[1]))
            recv_n(s, 3)
        elif f[0] == "rr":
            count, req, resp, gap = (int(x) for x in f[1:5])
            for i in range(count):
                if i:
                    time.sleep(gap / 1000.0)  # idle gap between exchanges
                s.sendall(b"RR %d %d\n" % (req, resp))
                send_n(s, req)
                recv_n(s, resp)
        elif f[0] == "sleep":
            time.sleep(int(f[1]) / 1000.0)
        else:
            raise SystemExit("unknown op " + op)
    s.shutdown(socket.SHUT_WR)
    s.recv(1)  # wait for the server's FIN so the close is in the capture
    s.close()


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "server":
        with Server(("::", int(sys.argv[2])), Handler) as srv:
            srv.serve_forever()
    elif len(sys.argv) >= 5 and sys.argv[1] == "client":
        client(sys.argv[2], sys.argv[3], sys.argv[4:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
