#!/usr/bin/python3
"""
An independent Flume Avro RPC peer for interoperability tests, written against Apache's own Avro library for
Python (Debian python3-avro: avro.io, avro.ipc, avro.protocol). It shares no code with flume-ts.

Apache's Python IPC speaks the HTTP framing of the Avro spec, not the Netty framing Flume uses, so the Netty
framing of Java's NettyTransportCodec is added here by hand:

    frame := serial:int32 count:int32 { length:int32 bytes[length] } x count      (big-endian)

Messages are split into 8 KiB buffers, as Java's ByteBufferOutputStream does. Handshakes and calls are encoded
and decoded by avro.ipc's own writers/readers and avro.io's DatumWriter/DatumReader, with the stateful rule of
Java's Responder/NettyTransceiver: only the requests of a not-yet-connected connection carry a handshake.

Run with /usr/bin/python3 (Debian's interpreter, where python3-avro is installed).

  client mode: send --count events with appendBatch (or append) in batches of --batch, check every status is OK.
      Prints one JSON line: {"sent": n, "batches": b, "statuses": {...}, "handshake": [...]}; exit 0 if all OK.
  server mode: answer handshakes and append/appendBatch; append every received event as a JSON line to --out
      ({"headers": {...}, "body_b64": "..."}), flushed before answering. Prints "PORT <n>" once listening.
      --fail-first K answers FAILED to the first K calls (then OK). Stops on SIGTERM/SIGINT.
  --deflate (both modes): compression-type = deflate, with Python's zlib.
"""
import argparse
import base64
import io
import json
import signal
import socket
import socketserver
import struct
import sys
import threading
import zlib

import avro.io
import avro.ipc
import avro.protocol

PROTOCOL_JSON = json.dumps({
    "protocol": "AvroSourceProtocol",
    "namespace": "org.apache.flume.source.avro",
    "types": [
        {"type": "enum", "name": "Status", "symbols": ["OK", "FAILED", "UNKNOWN"]},
        {"type": "record", "name": "AvroFlumeEvent", "fields": [
            {"name": "headers", "type": {"type": "map", "values": "string"}},
            {"name": "body", "type": "bytes"}]},
    ],
    "messages": {
        "append": {"request": [{"name": "event", "type": "AvroFlumeEvent"}], "response": "Status"},
        "appendBatch": {"request": [{"name": "events", "type": {"type": "array", "items": "AvroFlumeEvent"}}],
                        "response": "Status"},
    },
})
PROTOCOL = avro.protocol.parse(PROTOCOL_JSON)
CHUNK = 8192


# ------------------------------------------------------------------------------------------------ Netty framing

def read_exact(sock, n):
    out = bytearray()
    while len(out) < n:
        b = sock.recv(n - len(out))
        if not b:
            raise EOFError("connection closed")
        out += b
    return bytes(out)


def read_frame(sock, max_bytes=256 * 1024 * 1024):
    serial, count = struct.unpack(">ii", read_exact(sock, 8))
    if count < 0 or count > 1_000_000:
        raise ValueError("bad buffer count %d" % count)
    parts = []
    total = 0
    for _ in range(count):
        (length,) = struct.unpack(">i", read_exact(sock, 4))
        total += length
        if length < 0 or total > max_bytes:
            raise ValueError("bad buffer length %d" % length)
        parts.append(read_exact(sock, length))
    return serial, b"".join(parts)


def write_frame(sock, serial, message):
    buffers = [message[i:i + CHUNK] for i in range(0, len(message), CHUNK)] or [b""]
    out = [struct.pack(">ii", serial, len(buffers))]
    for b in buffers:
        out.append(struct.pack(">i", len(b)))
        out.append(b)
    sock.sendall(b"".join(out))


class DeflateSocket:
    """compression-type = deflate: a zlib (RFC 1950) stream per direction, sync-flushed after every write (as
    Netty's ZlibEncoder does in Flume), over a plain socket. Python's zlib, not Node's: an independent check."""

    def __init__(self, sock, level=6):
        self.sock = sock
        self.comp = zlib.compressobj(level, zlib.DEFLATED, 15)
        self.decomp = zlib.decompressobj(15)
        self.pending = b""

    def sendall(self, data):
        self.sock.sendall(self.comp.compress(data) + self.comp.flush(zlib.Z_SYNC_FLUSH))

    def recv(self, n):
        while not self.pending:
            raw = self.sock.recv(65536)
            if not raw:
                return b""
            self.pending = self.decomp.decompress(raw)
        out, self.pending = self.pending[:n], self.pending[n:]
        return out

    def close(self):
        self.sock.close()


# ------------------------------------------------------------------------------------------------ client

class NettyRequestor(avro.ipc.BaseRequestor):
    """Apache's BaseRequestor with Java's stateful rule: a handshake only until the connection is connected."""

    class _Transceiver:
        def __init__(self, name):
            self.remote_name = name

    def __init__(self, sock, name):
        super().__init__(PROTOCOL, NettyRequestor._Transceiver(name))
        self.sock = sock
        self.connected = False
        self.serial = 0
        self.handshakes = []

    def request(self, message_name, request_datum):
        buf = io.BytesIO()
        enc = avro.io.BinaryEncoder(buf)
        sent_handshake = not self.connected
        if sent_handshake:
            self.write_handshake_request(enc)
        self.write_call_request(message_name, request_datum, enc)
        self.serial += 1
        write_frame(self.sock, self.serial, buf.getvalue())
        serial, reply = read_frame(self.sock)
        if serial != self.serial:
            raise ValueError("serial %d answered with %d" % (self.serial, serial))
        dec = avro.io.BinaryDecoder(io.BytesIO(reply))
        if sent_handshake:
            before = self.send_protocol
            has_call = self.read_handshake_response(dec)
            self.handshakes.append("NONE" if not has_call else ("sent-protocol" if before else "ok"))
            if not has_call:
                return self.request(message_name, request_datum)  # NONE: resend with our protocol text
            self.connected = True
        return self.read_call_response(message_name, dec)


def make_event(i, body_size):
    body = ("event-%d " % i).encode("utf-8") + "é漢🚀".encode("utf-8")
    if body_size > len(body):
        body += b"x" * (body_size - len(body))
    headers = {"seq": str(i), "ключ": "значение-ü", "emoji": "🚀"}
    return {"headers": headers, "body": body}


def run_client(a):
    sock = socket.create_connection((a.host, a.port), timeout=a.timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if a.deflate:
        sock = DeflateSocket(sock)
    req = NettyRequestor(sock, "%s:%d" % (a.host, a.port))
    statuses = {}
    batches = 0
    i = a.start
    end = a.start + a.count
    while i < end:
        n = min(a.batch, end - i)
        events = [make_event(j, a.body_size) for j in range(i, i + n)]
        if a.append:
            for e in events:
                st = req.request("append", {"event": e})
                statuses[st] = statuses.get(st, 0) + 1
        else:
            st = req.request("appendBatch", {"events": events})
            statuses[st] = statuses.get(st, 0) + 1
        batches += 1
        i += n
    sock.close()
    print(json.dumps({"sent": a.count, "batches": batches, "statuses": statuses, "handshake": req.handshakes}))
    sys.stdout.flush()
    return 0 if set(statuses) <= {"OK"} else 1


# ------------------------------------------------------------------------------------------------ server

class FlumeResponder(avro.ipc.Responder):
    def __init__(self, out, fail_first):
        super().__init__(PROTOCOL)
        self.out = out
        self.fail_left = fail_first
        self.lock = threading.Lock()

    def handle_message(self, message_name, request):
        with self.lock:
            if self.fail_left > 0:
                self.fail_left -= 1
                return "FAILED"
            events = request["events"] if message_name == "appendBatch" else [request["event"]]
            for e in events:
                rec = {"headers": e["headers"], "body_b64": base64.b64encode(e["body"]).decode("ascii")}
                self.out.write(json.dumps(rec, ensure_ascii=False) + "\n")
            self.out.flush()
            return "OK"


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        responder = self.server.responder
        sock = DeflateSocket(self.request) if self.server.deflate else self.request
        connected = False
        while True:
            try:
                serial, msg = read_frame(sock)
            except (EOFError, ConnectionError, OSError):
                return
            dec = avro.io.BinaryDecoder(io.BytesIO(msg))
            buf = io.BytesIO()
            enc = avro.io.BinaryEncoder(buf)
            if not connected:
                remote = responder.process_handshake(dec, enc)
                if remote is None:  # NONE: the handshake response only
                    write_frame(sock, serial, buf.getvalue())
                    continue
                connected = True
                self.remote = remote
            avro.ipc.META_READER.read(dec)
            name = dec.read_utf8()
            if name == "":  # a handshake ping
                write_frame(sock, serial, buf.getvalue())
                continue
            remote_msg = self.remote.messages.get(name)
            local_msg = PROTOCOL.messages.get(name)
            avro.ipc.META_WRITER.write({}, enc)
            if remote_msg is None or local_msg is None:
                enc.write_boolean(True)
                avro.io.DatumWriter(avro.ipc.SYSTEM_ERROR_SCHEMA).write("No such message: %s" % name, enc)
            else:
                request = avro.io.DatumReader(remote_msg.request, local_msg.request).read(dec)
                status = responder.handle_message(name, request)
                enc.write_boolean(False)
                avro.io.DatumWriter(local_msg.response).write(status, enc)
            write_frame(sock, serial, buf.getvalue())


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def run_server(a):
    out = open(a.out, "a", encoding="utf-8")
    srv = Server((a.host, a.port), Handler)
    srv.responder = FlumeResponder(out, a.fail_first)
    srv.deflate = a.deflate
    print("PORT %d" % srv.server_address[1])
    sys.stdout.flush()

    def stop(*_):
        threading.Thread(target=srv.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    srv.serve_forever(poll_interval=0.1)
    out.close()
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", choices=["client", "server"])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--count", type=int, default=10)
    p.add_argument("--start", type=int, default=0, help="sequence number of the first event")
    p.add_argument("--batch", type=int, default=100)
    p.add_argument("--body-size", type=int, default=0, help="pad bodies to this many bytes")
    p.add_argument("--append", action="store_true", help="use append (one event per call) instead of appendBatch")
    p.add_argument("--timeout", type=float, default=20.0)
    p.add_argument("--out", default="/dev/stdout")
    p.add_argument("--fail-first", type=int, default=0)
    p.add_argument("--deflate", action="store_true", help="compression-type = deflate (zlib stream, sync flush)")
    a = p.parse_args()
    return run_client(a) if a.mode == "client" else run_server(a)


if __name__ == "__main__":
    sys.exit(main())
