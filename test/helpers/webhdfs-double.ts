/**
 * A WebHDFS test DOUBLE, written from the public WebHDFS REST spec (hadoop-hdfs WebHDFS.md and the
 * ExceptionHandler status mapping; summarised in shared/reference/protocols.md §3) - not a real HDFS. No HDFS
 * server can run on this machine; the opt-in test against a real cluster runs when WEBHDFS_URL is set.
 *
 * What it models: NameNodes (one or more, each `active` or `standby`) and one DataNode, all HTTP servers on
 * loopback sharing one in-memory namespace. CREATE (PUT) and APPEND (POST) answer 307 at the NameNode with a
 * DataNode URL; the DataNode takes the data (CREATE 201, APPEND 200) and reports FileAlreadyExists / FileNotFound
 * itself. MKDIRS, RENAME (false when the source is missing or the destination file exists; into a directory when
 * the destination is one), DELETE, GETFILESTATUS, LISTSTATUS and OPEN behave as the spec says. Errors are
 * RemoteException JSON with the status the real handlers use (403 for IOExceptions, 404 FileNotFound, 400
 * IllegalArgument). A standby NameNode answers StandbyException (403) to everything. Faults can be queued: the next
 * N NameNode calls answer RetriableException, or the next N DataNode writes fail with a 500.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path/posix';

export interface Call {
  server: string;
  method: string;
  op: string;
  path: string;
  query: Record<string, string>;
  bytes: number;
}

interface Node {
  server: http.Server;
  port: number;
  name: string;
}

function remote(res: http.ServerResponse, status: number, exception: string, message: string, javaPackage = 'java.io') {
  const body = JSON.stringify({
    RemoteException: { exception, javaClassName: `${javaPackage}.${exception}`, message },
  });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function json(res: http.ServerResponse, status: number, value: unknown) {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export class WebHdfsDouble {
  readonly files = new Map<string, Buffer>();
  readonly dirs = new Set<string>(['/']);
  readonly calls: Call[] = [];
  readonly state: ('active' | 'standby')[] = [];
  /** Users that may not write (AccessControlException), e.g. the static web user dr.who. */
  readonly deniedUsers = new Set<string>(['dr.who']);
  private retriableLeft = 0;
  private dataNodeFailuresLeft = 0;
  private namenodes: Node[] = [];
  private datanode!: Node;

  static async start(namenodes = 1): Promise<WebHdfsDouble> {
    const d = new WebHdfsDouble();
    d.datanode = await d.listen('dn', (req, res) => void d.onDataNode(req, res));
    for (let i = 0; i < namenodes; i++) {
      d.state.push(i === 0 ? 'active' : 'standby');
      d.namenodes.push(await d.listen(`nn${i}`, (req, res) => void d.onNameNode(i, req, res)));
    }
    return d;
  }

  /** `host:port` of NameNode i. */
  address(i = 0): string {
    return `127.0.0.1:${this.namenodes[i]!.port}`;
  }

  get dataNodePort(): number {
    return this.datanode.port;
  }

  /** The next `n` NameNode calls answer RetriableException (403). */
  failNextNameNodeCalls(n: number): void {
    this.retriableLeft = n;
  }

  /** The next `n` DataNode writes answer 500 without storing anything. */
  failNextDataNodeWrites(n: number): void {
    this.dataNodeFailuresLeft = n;
  }

  /** Makes NameNode i the active one, every other a standby (an HA failover). */
  makeActive(i: number): void {
    for (let k = 0; k < this.state.length; k++) this.state[k] = k === i ? 'active' : 'standby';
  }

  text(p: string): string | undefined {
    return this.files.get(p)?.toString('utf8');
  }

  /** Files under `dir` (recursively), sorted. */
  list(dir = '/'): string[] {
    const prefix = dir.endsWith('/') ? dir : `${dir}/`;
    return [...this.files.keys()].filter((f) => f.startsWith(prefix)).sort();
  }

  async stop(): Promise<void> {
    for (const n of [...this.namenodes, this.datanode]) {
      n.server.closeAllConnections();
      await new Promise<void>((r) => n.server.close(() => r()));
    }
  }

  private async listen(name: string, handler: http.RequestListener): Promise<Node> {
    const server = http.createServer(handler);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    return { server, port: (server.address() as AddressInfo).port, name };
  }

  private parse(req: http.IncomingMessage) {
    const url = new URL(req.url ?? '/', 'http://x');
    const query = Object.fromEntries(url.searchParams);
    const p = decodeURIComponent(url.pathname.replace(/^\/webhdfs\/v1/, '')) || '/';
    return { url, query, path: p, op: (query.op ?? '').toUpperCase() };
  }

  private isDir(p: string): boolean {
    return this.dirs.has(p);
  }

  private mkdirs(p: string): void {
    for (let d = p; d !== '/' && !this.dirs.has(d); d = path.dirname(d)) this.dirs.add(d);
  }

  private status(p: string) {
    const dir = this.isDir(p);
    const f = this.files.get(p);
    return {
      pathSuffix: path.basename(p),
      type: dir ? 'DIRECTORY' : 'FILE',
      length: f?.length ?? 0,
      modificationTime: Date.now(),
      permission: dir ? '755' : '644',
      owner: 'hdfs',
      group: 'supergroup',
      replication: dir ? 0 : 3,
      blockSize: dir ? 0 : 134217728,
    };
  }

  private async onNameNode(i: number, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const { query, path: p, op } = this.parse(req);
    await readBody(req);
    this.calls.push({ server: `nn${i}`, method: req.method ?? '', op, path: p, query, bytes: 0 });
    if (this.state[i] === 'standby')
      return remote(
        res,
        403,
        'StandbyException',
        'Operation category READ is not supported in state standby',
        'org.apache.hadoop.ipc',
      );
    if (this.retriableLeft > 0) {
      this.retriableLeft--;
      return remote(res, 403, 'RetriableException', 'NameNode still not started', 'org.apache.hadoop.ipc');
    }
    const user = query['user.name'] ?? 'dr.who';
    const write = req.method !== 'GET';
    if (write && this.deniedUsers.has(user))
      return remote(
        res,
        403,
        'AccessControlException',
        `Permission denied: user=${user}, access=WRITE, inode="${p}"`,
        'org.apache.hadoop.security',
      );
    const dn = `http://127.0.0.1:${this.datanode.port}/webhdfs/v1${p}`;
    const redirect = () => {
      const u = new URL(dn);
      for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v);
      u.searchParams.set('namenoderpcaddress', 'double:8020');
      res.writeHead(307, { location: u.toString(), 'content-length': 0 });
      res.end();
    };
    switch (`${req.method} ${op}`) {
      case 'PUT CREATE':
      case 'POST APPEND':
      case 'GET OPEN':
        return redirect();
      case 'PUT MKDIRS':
        if (this.files.has(p)) return remote(res, 403, 'FileAlreadyExistsException', `Path is not a directory: ${p}`);
        this.mkdirs(p);
        return json(res, 200, { boolean: true });
      case 'PUT RENAME': {
        let dst = query.destination ?? '';
        if (!dst.startsWith('/')) return remote(res, 400, 'IllegalArgumentException', `Invalid destination ${dst}`);
        if (!this.files.has(p) || !this.dirs.has(path.dirname(dst) === '' ? '/' : path.dirname(dst)))
          return json(res, 200, { boolean: false });
        if (this.isDir(dst)) dst = path.join(dst, path.basename(p));
        if (this.files.has(dst)) return json(res, 200, { boolean: false });
        this.files.set(dst, this.files.get(p)!);
        this.files.delete(p);
        return json(res, 200, { boolean: true });
      }
      case 'DELETE DELETE':
        return json(res, 200, { boolean: this.files.delete(p) });
      case 'GET GETFILESTATUS':
        if (!this.files.has(p) && !this.isDir(p))
          return remote(res, 404, 'FileNotFoundException', `File does not exist: ${p}`);
        return json(res, 200, { FileStatus: this.status(p) });
      case 'GET LISTSTATUS': {
        const kids = [...this.files.keys(), ...this.dirs].filter((f) => f !== p && path.dirname(f) === p);
        return json(res, 200, { FileStatuses: { FileStatus: kids.sort().map((k) => this.status(k)) } });
      }
      default:
        return remote(res, 400, 'IllegalArgumentException', `Invalid value for webhdfs parameter "op": ${op}`);
    }
  }

  private async onDataNode(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const { query, path: p, op } = this.parse(req);
    const body = await readBody(req);
    this.calls.push({ server: 'dn', method: req.method ?? '', op, path: p, query, bytes: body.length });
    if (op === 'OPEN') {
      const f = this.files.get(p);
      if (!f) return remote(res, 404, 'FileNotFoundException', `File does not exist: ${p}`);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': f.length });
      return void res.end(f);
    }
    if (this.dataNodeFailuresLeft > 0) {
      this.dataNodeFailuresLeft--;
      return remote(res, 500, 'IOException', 'All datanodes are bad. Aborting...');
    }
    if (op === 'CREATE') {
      if (this.files.has(p) && query.overwrite !== 'true')
        return remote(res, 403, 'FileAlreadyExistsException', `${p} for client 127.0.0.1 already exists`);
      this.mkdirs(path.dirname(p));
      this.files.set(p, body);
      res.writeHead(201, { location: `webhdfs://double${p}`, 'content-length': 0 });
      return void res.end();
    }
    if (op === 'APPEND') {
      const f = this.files.get(p);
      if (!f) return remote(res, 404, 'FileNotFoundException', `File does not exist: ${p}`);
      this.files.set(p, Buffer.concat([f, body]));
      res.writeHead(200, { 'content-length': 0 });
      return void res.end();
    }
    return remote(res, 400, 'IllegalArgumentException', `Invalid value for webhdfs parameter "op": ${op}`);
  }
}
