import { startForward } from './dist/test/helpers/forward.js';
import { FluentClient } from '@fluent-org/logger';
const f = await startForward({ sharedKey: 's3cret', selfHostname: 'collector' });
const good = new FluentClient('sec', { eventMode: 'PackedForward', socket: { host: '127.0.0.1', port: f.port }, security: { clientHostname: 'app-host', sharedKey: 's3cret' }, ack: { ackTimeout: 3000 }, flushInterval: 0 });
good.socketOn?.('error', (e) => console.log('sock err', e));
const t = setTimeout(() => { console.log('timeout; events', f.events.length, f.counters.get('EventReadFail')); process.exit(1); }, 5000);
try { await good.emit('ok', { a: 1 }); console.log('good ok', f.events.length); } catch (e) { console.log('good err', e); }
const bad = new FluentClient('sec', { eventMode: 'PackedForward', socket: { host: '127.0.0.1', port: f.port, reconnect: {backoff: 1, delay: 10000} }, security: { clientHostname: 'app-host', sharedKey: 'bad' }, ack: { ackTimeout: 1000 }, flushInterval: 0 });
try { await bad.emit('no', { a: 1 }); console.log('bad ok?!'); } catch (e) { console.log('bad err', e.name, e.message); }
console.log('events', f.events.length, 'readfail', f.counters.get('EventReadFail'));
clearTimeout(t);
await good.disconnect(); await bad.disconnect(); await f.stop();
