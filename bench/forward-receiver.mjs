#!/usr/bin/env node
// The fast receiving end of the forward-sink bench pipeline (bench/run.mjs): a Forward protocol server that frames
// each request (the project's msgpack scanner, from dist/), reads its tag, entry bytes and options, counts the
// entries from `size`, and answers `{"ack": chunk}` at once, without decoding a record. Prints `listening <port>`,
// and on SIGTERM `received {json}` (requests, entries, bytes) before exiting 0.
//
// Usage: node bench/forward-receiver.mjs   (after npx tsc -p tsconfig.json)
import net from 'node:net';
import { ObjectScanner, Reader } from '../dist/src/rpc/forward/msgpack.js';

// the values of the (const, so compiled away) enum T in src/rpc/forward/msgpack.ts
const T = { Str: 4, Bin: 5, Array: 6, Map: 7 };

const stats = { requests: 0, entries: 0, bytes: 0, connections: 0 };
const ACK = Buffer.from([0x81, 0xa3, 0x61, 0x63, 0x6b]);

function onRequest(sock, buf, start, end) {
  const r = new Reader(buf, start, end);
  if (r.head() !== T.Array) throw new Error('a request must be an array');
  const len = r.n;
  r.text(); // tag
  const t = r.head();
  if (t !== T.Bin && t !== T.Str) throw new Error('only PackedForward requests are expected');
  stats.bytes += r.n;
  r.pos += r.n;
  if (len < 3 || r.head() !== T.Map) throw new Error('a request without options');
  const keys = r.n;
  let chunk;
  for (let i = 0; i < keys; i++) {
    const k = r.text();
    if (k === 'size') {
      r.head();
      stats.entries += r.n;
    } else if (k === 'chunk') {
      const at = r.pos;
      r.skip();
      chunk = buf.subarray(at, r.pos);
    } else r.skip();
  }
  stats.requests++;
  if (chunk) sock.write(Buffer.concat([ACK, chunk]));
}

const server = net.createServer((sock) => {
  stats.connections++;
  sock.setNoDelay(true);
  const scanner = new ObjectScanner(64 * 1024 * 1024);
  let buf = Buffer.alloc(0);
  sock.on('data', (d) => {
    buf = buf.length ? Buffer.concat([buf, d]) : d;
    try {
      for (;;) {
        const n = scanner.scan(buf, buf.length);
        if (n < 0) return;
        onRequest(sock, buf, 0, n);
        buf = buf.subarray(n);
        scanner.reset();
      }
    } catch (err) {
      process.stderr.write(`forward-receiver: ${err.message}\n`);
      process.exit(1);
    }
  });
  sock.on('error', () => {});
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${server.address().port}\n`));
process.once('SIGTERM', () => {
  process.stdout.write(`received ${JSON.stringify(stats)}\n`);
  setTimeout(() => process.exit(0), 50);
});
