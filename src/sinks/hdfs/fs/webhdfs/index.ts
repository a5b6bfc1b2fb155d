/**
 * The hdfs sink over WebHDFS (Hadoop's REST API; `webhdfs://` over HTTP, `swebhdfs://` over HTTPS).
 *
 * There is no hflush over WebHDFS: every CREATE and APPEND opens, writes and closes the file, so data is durable and
 * visible once the answer arrives. A file is therefore CREATEd empty when it opens, each flush (one per transaction
 * and bucket) is one APPEND, and a roll is a RENAME. CREATE and APPEND take two steps: the NameNode answers 307 with
 * a DataNode URL, and the data goes there.
 *
 * High availability: the NameNodes of hdfs.namenodes are tried in order; one that answers StandbyException (or
 * cannot be reached) sends the call to the next, and the one that answered stays first for later calls.
 * Errors are told apart by RemoteException.exception, not by the status (protocols.md §3): FileAlreadyExists on
 * CREATE means the name is taken; AccessControl/Security/Authorization (and a plain 401) are FLUME_ERR_HDFS_DENIED;
 * everything else (RetriableException, SafeMode, AlreadyBeingCreated, RecoveryInProgress, 5xx, timeouts) is a
 * retriable FLUME_ERR_HDFS_IO.
 */
import path from 'node:path/posix';
import type tls from 'node:tls';
import { AgentError } from '../../../../core/errors.js';
import type { HdfsFile, HdfsFileSystem } from '../port.js';
import { HttpTransport, redact, remoteException, type HttpAnswer, type RemoteException } from './http.js';

export interface NameNode {
  host: string;
  port: number;
}

export interface WebHdfsOptions {
  secure: boolean;
  namenodes: readonly NameNode[];
  /** user.name sent with every call (security off). */
  user?: string;
  /** doas: the user impersonated (proxy user). */
  doas?: string;
  /** Octal permission of created files, e.g. `640`. */
  permission: string;
  timeoutMs: number;
  tls?: tls.ConnectionOptions;
  /** Told when the active NameNode changes. */
  onFailover?: (from: NameNode, to: NameNode, reason: string) => void;
}

const DENIED = new Set(['AccessControlException', 'SecurityException', 'AuthorizationException']);

class RemoteError extends AgentError {
  constructor(
    message: string,
    readonly remote: RemoteException | undefined,
    readonly status: number,
  ) {
    const denied = (remote && DENIED.has(remote.exception)) || (!remote && status === 401);
    super(denied ? 'FLUME_ERR_HDFS_DENIED' : 'FLUME_ERR_HDFS_IO', message);
  }
}

function describe(a: HttpAnswer, r: RemoteException | undefined): string {
  if (r) return `${r.exception}: ${r.message ?? ''}`.trim();
  const text = a.body.toString('utf8', 0, Math.min(a.body.length, 200)).trim();
  return `HTTP ${a.status}${text ? ` ${text}` : ''}`;
}

class WebHdfsFile implements HdfsFile {
  constructor(
    private readonly fs: WebHdfsFileSystem,
    readonly path: string,
    public size: number,
  ) {}

  async write(data: Buffer): Promise<void> {
    if (data.length === 0) return;
    await this.fs.append(this.path, data);
    this.size += data.length;
  }

  async sync(): Promise<void> {
    // every APPEND already closed the file on the DataNodes
  }

  truncate(): Promise<boolean> {
    return Promise.resolve(false);
  }

  async close(): Promise<void> {
    // nothing is held open between calls
  }
}

export class WebHdfsFileSystem implements HdfsFileSystem {
  readonly description: string;
  private readonly http: HttpTransport;
  private active = 0;
  private readonly dirs = new Set<string>();

  constructor(private readonly o: WebHdfsOptions) {
    if (o.namenodes.length === 0) throw new AgentError('FLUME_ERR_HDFS_IO', 'no NameNode address');
    this.http = new HttpTransport(o.timeoutMs, o.tls);
    const scheme = o.secure ? 'swebhdfs' : 'webhdfs';
    this.description = o.namenodes.map((n) => `${scheme}://${n.host}:${n.port}`).join(', ');
  }

  /** The NameNode calls go to first (the last one that answered as active). */
  get activeNameNode(): NameNode {
    return this.o.namenodes[this.active]!;
  }

  private url(nn: NameNode, file: string, op: string, params: Record<string, string>): URL {
    const encoded = file
      .split('/')
      .map((s) => encodeURIComponent(s))
      .join('/');
    const u = new URL(`${this.o.secure ? 'https' : 'http'}://${nn.host}:${nn.port}/webhdfs/v1${encoded}`);
    u.searchParams.set('op', op);
    if (this.o.user !== undefined) u.searchParams.set('user.name', this.o.user);
    if (this.o.doas !== undefined) u.searchParams.set('doas', this.o.doas);
    for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
    return u;
  }

  /** One NameNode call, failing over across hdfs.namenodes on StandbyException or an unreachable NameNode. */
  private async namenode(method: string, file: string, op: string, params: Record<string, string> = {}) {
    const nns = this.o.namenodes;
    let lastError: unknown;
    const first = this.active;
    for (let i = 0; i < nns.length; i++) {
      const idx = (first + i) % nns.length;
      const nn = nns[idx]!;
      const url = this.url(nn, file, op, params);
      let a: HttpAnswer;
      try {
        a = await this.http.request(url, method);
      } catch (err) {
        lastError = err;
        if (nns.length > 1) this.failover(idx, (idx + 1) % nns.length, 'unreachable');
        continue;
      }
      const r = a.status >= 400 ? remoteException(a) : undefined;
      if (r?.exception === 'StandbyException') {
        lastError = new RemoteError(`${method} ${redact(url)}: ${describe(a, r)}`, r, a.status);
        if (nns.length > 1) this.failover(idx, (idx + 1) % nns.length, 'standby');
        continue;
      }
      return { a, r, url };
    }
    throw lastError instanceof AgentError
      ? lastError
      : new AgentError('FLUME_ERR_HDFS_IO', `no NameNode of ${this.description} answered`, { cause: lastError });
  }

  private failover(from: number, to: number, reason: string): void {
    if (this.active !== from) return;
    this.active = to;
    this.o.onFailover?.(this.o.namenodes[from]!, this.o.namenodes[to]!, reason);
  }

  private fail(method: string, url: URL, a: HttpAnswer, r: RemoteException | undefined): never {
    throw new RemoteError(`${method} ${redact(url)}: ${describe(a, r)}`, r, a.status);
  }

  /** Step 1 of CREATE/APPEND: the DataNode URL from a 307 (or a noredirect 200 {"Location"}). */
  private async dataNodeUrl(method: string, file: string, op: string, params: Record<string, string>) {
    const { a, r, url } = await this.namenode(method, file, op, params);
    if ((a.status === 307 || a.status === 302 || a.status === 303) && a.location) return new URL(a.location, url);
    if (a.status === 200) {
      try {
        const loc = (JSON.parse(a.body.toString('utf8')) as { Location?: string }).Location;
        if (loc) return new URL(loc, url);
      } catch {
        // not a noredirect answer: reported below
      }
    }
    return { error: { a, r, url } };
  }

  private async twoStep(
    method: 'PUT' | 'POST',
    file: string,
    op: string,
    params: Record<string, string>,
    data: Buffer,
  ) {
    const dn = await this.dataNodeUrl(method, file, op, params);
    if (!(dn instanceof URL)) return dn;
    const a = await this.http.request(dn, method, data);
    if (a.status >= 200 && a.status < 300) return undefined;
    return { error: { a, r: remoteException(a), url: dn } };
  }

  async mkdirs(dir: string): Promise<void> {
    if (this.dirs.has(dir)) return;
    const { a, r, url } = await this.namenode('PUT', dir, 'MKDIRS', { permission: '755' });
    if (a.status !== 200) this.fail('PUT', url, a, r);
    if (this.dirs.size > 10_000) this.dirs.clear();
    this.dirs.add(dir);
  }

  async create(file: string): Promise<HdfsFile | undefined> {
    await this.mkdirs(path.dirname(file));
    const params = { overwrite: 'false', permission: this.o.permission };
    const res = await this.twoStep('PUT', file, 'CREATE', params, Buffer.alloc(0));
    if (res) {
      const { a, r, url } = res.error;
      if (r?.exception === 'FileAlreadyExistsException') return undefined;
      if (r?.exception === 'FileNotFoundException') this.dirs.delete(path.dirname(file));
      this.fail('PUT', url, a, r);
    }
    return new WebHdfsFile(this, file, 0);
  }

  /** The length of `file`, or undefined when it does not exist. */
  async length(file: string): Promise<number | undefined> {
    const { a, r, url } = await this.namenode('GET', file, 'GETFILESTATUS');
    if (a.status === 404 || r?.exception === 'FileNotFoundException') return undefined;
    if (a.status !== 200) this.fail('GET', url, a, r);
    const st = (JSON.parse(a.body.toString('utf8')) as { FileStatus?: { length?: number; type?: string } }).FileStatus;
    return st?.length ?? 0;
  }

  async openAppend(file: string): Promise<HdfsFile> {
    const size = await this.length(file);
    if (size !== undefined) return new WebHdfsFile(this, file, size);
    const created = await this.create(file);
    if (created) return created;
    // created by someone else in between: append to theirs
    return new WebHdfsFile(this, file, (await this.length(file)) ?? 0);
  }

  async append(file: string, data: Buffer): Promise<void> {
    const res = await this.twoStep('POST', file, 'APPEND', {}, data);
    if (res) this.fail('POST', res.error.url, res.error.a, res.error.r);
  }

  async exists(file: string): Promise<boolean> {
    return (await this.length(file)) !== undefined;
  }

  async rename(from: string, to: string): Promise<boolean> {
    // RENAME onto an existing directory moves the source inside it; onto an existing file it answers false
    if (await this.exists(to)) return false;
    const { a, r, url } = await this.namenode('PUT', from, 'RENAME', { destination: to });
    if (a.status !== 200) this.fail('PUT', url, a, r);
    return (JSON.parse(a.body.toString('utf8')) as { boolean?: boolean }).boolean === true;
  }

  async remove(file: string): Promise<boolean> {
    const { a, r, url } = await this.namenode('DELETE', file, 'DELETE', { recursive: 'false' });
    if (a.status !== 200) this.fail('DELETE', url, a, r);
    return (JSON.parse(a.body.toString('utf8')) as { boolean?: boolean }).boolean === true;
  }

  async close(): Promise<void> {
    this.http.close();
  }
}
