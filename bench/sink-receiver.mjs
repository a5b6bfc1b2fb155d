#!/usr/bin/env node
// Receiving end of the netcat-memory-elasticsearch and netcat-memory-http bench pipelines (bench/run.mjs): a
// separate process, so its CPU is not the agent's. Prints `listening <port>`, writes what it receives to
// <output-file> in arrival order, exits 0 on SIGTERM once the file is closed.
//   es   <output-file>: the Elasticsearch _bulk DOUBLE of the tests (dist/test/helpers/es-double.js, run `npm run
//        build` first); every stored document's `@message` is written, followed by `\n` (the logstash document of a
//        netcat line holds the line without its newline), so the file equals the data set when every event arrived.
//   http <output-file>: a node:http server answering 200 to every POST and writing the request body as is (the http
//        sink's JSON-lines body: every event body followed by `\n`).
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const [mode, outFile] = process.argv.slice(2);
if (!['es', 'http'].includes(mode) || !outFile) {
  console.error('usage: node bench/sink-receiver.mjs es|http <output-file>');
  process.exit(64);
}
const fd = fs.openSync(outFile, 'w');
const fail = (err) => {
  console.error(`sink-receiver: ${err.message}`);
  process.exit(1);
};

let server;
if (mode === 'es') {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const { EsDouble } = await import(path.join(root, 'dist', 'test', 'helpers', 'es-double.js'));
  let pending = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    const text = pending.join('');
    pending = [];
    try {
      fs.writeSync(fd, text);
    } catch (err) {
      fail(err);
    }
  };
  const es = new EsDouble({
    store: false,
    onDocument: (a) => {
      pending.push(`${a.doc['@message']}\n`);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
  });
  await es.listen();
  server = es.server;
} else {
  server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      try {
        fs.writeSync(fd, Buffer.concat(chunks));
      } catch (err) {
        fail(err);
      }
      res.writeHead(200, { 'content-length': 0 }).end();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
}
process.stdout.write(`listening ${server.address().port}\n`);

process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close();
  fs.closeSync(fd);
  process.exit(0);
});
