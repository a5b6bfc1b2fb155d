/**
 * The shared-key handshake of Forward protocol v1 (in_forward's `<security>`): the server sends
 * `["HELO", {nonce, auth, keepalive}]`, the client answers `["PING", hostname, salt, hex(SHA512(salt|hostname|nonce|
 * key)), username, password-digest]`, the server checks it and answers `["PONG", ok, reason, hostname,
 * hex(SHA512(salt|server_hostname|nonce|key))]`. Hashes are over the raw bytes concatenated; nonce and auth may be
 * str or bin (both are taken as bytes).
 */
import crypto from 'node:crypto';
import { AgentError } from '../../core/errors.js';
import { pack } from './msgpack.js';

const sha512 = (...parts: (Buffer | string)[]): string => {
  const h = crypto.createHash('sha512');
  for (const p of parts) h.update(p);
  return h.digest('hex');
};

const bytes = (v: unknown): Buffer | undefined =>
  Buffer.isBuffer(v) ? v : typeof v === 'string' ? Buffer.from(v, 'utf8') : undefined;

const sameText = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && crypto.timingSafeEqual(x, y);
};

// ----------------------------------------------------------------------------------------------- server side

export interface ServerAuth {
  sharedKey: string;
  selfHostname: string;
  /** username -> password; empty: no user authentication (auth is sent empty). */
  users: ReadonlyMap<string, string>;
}

export interface Helo {
  message: Buffer;
  nonce: Buffer;
  auth: Buffer;
}

export function helo(a: ServerAuth, keepalive = true): Helo {
  const nonce = crypto.randomBytes(16);
  const auth = a.users.size > 0 ? crypto.randomBytes(16) : Buffer.alloc(0);
  return { message: pack(['HELO', { nonce, auth, keepalive }]), nonce, auth };
}

export interface PingResult {
  ok: boolean;
  reason: string;
  /** The answer to send. */
  pong: Buffer;
}

/** Checks a PING (already decoded) against the HELO that was sent; the PONG says why when it fails. */
export function checkPing(ping: unknown, h: Helo, a: ServerAuth): PingResult {
  const fail = (reason: string): PingResult => ({ ok: false, reason, pong: pack(['PONG', false, reason, '', '']) });
  if (!Array.isArray(ping) || ping.length !== 6 || ping[0] !== 'PING') return fail('invalid ping message');
  const [, hostRaw, saltRaw, digest, userRaw, pwRaw] = ping as unknown[];
  const host = bytes(hostRaw);
  const salt = bytes(saltRaw);
  if (!host || !salt || typeof digest !== 'string') return fail('invalid ping message');
  if (!sameText(sha512(salt, host, h.nonce, a.sharedKey), digest)) return fail('shared_key mismatch');
  if (a.users.size > 0) {
    const user = bytes(userRaw)?.toString('utf8') ?? '';
    const pw = a.users.get(user);
    const given = bytes(pwRaw)?.toString('utf8') ?? '';
    if (pw === undefined || !sameText(sha512(h.auth, user, pw), given)) return fail('username/password mismatch');
  }
  const proof = sha512(salt, a.selfHostname, h.nonce, a.sharedKey);
  return { ok: true, reason: '', pong: pack(['PONG', true, '', a.selfHostname, proof]) };
}

// ----------------------------------------------------------------------------------------------- client side

export interface ClientAuth {
  sharedKey: string;
  selfHostname: string;
  username: string;
  password: string;
}

/** The PING answering a decoded HELO; `salt` is kept to check the PONG. */
export function ping(heloMsg: unknown, a: ClientAuth): { message: Buffer; nonce: Buffer; salt: Buffer } {
  if (!Array.isArray(heloMsg) || heloMsg[0] !== 'HELO' || typeof heloMsg[1] !== 'object' || heloMsg[1] === null)
    throw new AgentError('FLUME_ERR_FORWARD_HANDSHAKE', 'not a HELO');
  const opts = heloMsg[1] as Record<string, unknown>;
  const nonce = bytes(opts.nonce);
  if (!nonce) throw new AgentError('FLUME_ERR_FORWARD_HANDSHAKE', 'HELO without a nonce');
  const auth = bytes(opts.auth) ?? Buffer.alloc(0);
  const salt = Buffer.from(crypto.randomBytes(16).toString('hex'));
  const digest = sha512(salt, a.selfHostname, nonce, a.sharedKey);
  const pw = auth.length > 0 ? sha512(auth, a.username, a.password) : '';
  const user = auth.length > 0 ? a.username : '';
  return { message: pack(['PING', a.selfHostname, salt, digest, user, pw]), nonce, salt };
}

/** Why a decoded PONG is not acceptable, or undefined when it is. */
export function pongProblem(pongMsg: unknown, nonce: Buffer, salt: Buffer, a: ClientAuth): string | undefined {
  if (!Array.isArray(pongMsg) || pongMsg.length !== 5 || pongMsg[0] !== 'PONG') return 'not a PONG message';
  const [, ok, reason, hostRaw, digest] = pongMsg as unknown[];
  if (ok !== true) return `the server refused the handshake: ${typeof reason === 'string' ? reason : '?'}`;
  const host = bytes(hostRaw)?.toString('utf8') ?? '';
  if (host === a.selfHostname) return 'the server has the same hostname as this client (selfHostname)';
  if (typeof digest !== 'string' || !sameText(sha512(salt, host, nonce, a.sharedKey), digest))
    return 'the server does not know the shared key';
  return undefined;
}
