/**
 * One HTTP exchange for the WebHDFS client: node:http / node:https with keep-alive, a whole-exchange timeout
 * (hdfs.callTimeout), no redirect following (the client handles the NameNode's 307 itself), and WebHDFS's
 * RemoteException JSON decoded from error answers.
 */
import http from 'node:http';
import https from 'node:https';
import type tls from 'node:tls';
import { AgentError, errorMessage } from '../../../../core/errors.js';

export interface HttpAnswer {
  status: number;
  location?: string;
  body: Buffer;
}

/** `{"RemoteException":{"exception","javaClassName","message"}}` of an error answer, when it has one. */
export interface RemoteException {
  exception: string;
  javaClassName?: string;
  message?: string;
}

/** Largest answer body read (JSON statuses and errors are small; OPEN is not used). */
const MAX_ANSWER_BYTES = 1024 * 1024;

export class HttpTransport {
  private readonly httpAgent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  private readonly httpsAgent: https.Agent;

  constructor(
    private readonly timeoutMs: number,
    tlsOptions: tls.ConnectionOptions | undefined,
  ) {
    this.httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 16, ...(tlsOptions ?? {}) });
  }

  request(url: URL, method: string, body?: Buffer, signal?: AbortSignal): Promise<HttpAnswer> {
    const secure = url.protocol === 'https:';
    const mod = secure ? https : http;
    const headers: Record<string, string | number> = {};
    if (body !== undefined) {
      headers['content-type'] = 'application/octet-stream';
      headers['content-length'] = body.length;
    } else if (method === 'PUT' || method === 'POST') headers['content-length'] = 0;
    return new Promise<HttpAnswer>((resolve, reject) => {
      let settled = false;
      const fail = (err: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.destroy();
        reject(
          err instanceof AgentError
            ? err
            : new AgentError('FLUME_ERR_HDFS_IO', `${method} ${redact(url)}: ${errorMessage(err)}`, { cause: err }),
        );
      };
      const req = mod.request(
        url,
        { method, headers, agent: secure ? this.httpsAgent : this.httpAgent, signal },
        (res) => {
          const chunks: Buffer[] = [];
          let n = 0;
          res.on('data', (c: Buffer) => {
            n += c.length;
            if (n > MAX_ANSWER_BYTES) return fail(`answer larger than ${MAX_ANSWER_BYTES} bytes`);
            chunks.push(c);
          });
          res.on('error', fail);
          res.on('end', () => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            const location = res.headers.location;
            resolve({ status: res.statusCode ?? 0, location, body: Buffer.concat(chunks) });
          });
        },
      );
      const timer = setTimeout(
        () => fail(`no complete answer within ${this.timeoutMs} ms (hdfs.callTimeout)`),
        this.timeoutMs,
      );
      req.on('error', fail);
      req.end(body);
    });
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}

export function remoteException(a: HttpAnswer): RemoteException | undefined {
  if (a.body.length === 0) return undefined;
  try {
    const j = JSON.parse(a.body.toString('utf8')) as { RemoteException?: RemoteException };
    const r = j.RemoteException;
    return r && typeof r.exception === 'string' ? r : undefined;
  } catch {
    return undefined;
  }
}

/** The URL with delegation tokens masked, for messages. */
export function redact(url: URL): string {
  const u = new URL(url);
  for (const k of ['delegation', 'token']) if (u.searchParams.has(k)) u.searchParams.set(k, '***');
  return `${u.origin}${u.pathname}?${u.searchParams.toString()}`;
}
