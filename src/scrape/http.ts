/**
 * The HTTP side of a scrape: one GET with Prometheus's headers, timeout, redirects, gzip and
 * body size limit, using Node's http/https with keep-alive agents shared by a scrape pool.
 */

import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { gunzipSync } from 'node:zlib';
import type { HttpClientOptions } from '../config/types.js';
import { RawHttpConnection, type RawHttpError, type RawResponse } from './rawhttp.js';

/** A failed scrape request; the message is what the targets API shows as lastError. */
export class ScrapeError extends Error {
  override readonly name = 'ScrapeError';
  constructor(
    message: string,
    readonly kind: 'http' | 'timeout' | 'body_size' | 'network' = 'network',
  ) {
    super(message);
  }
}

export interface ScrapeResponse {
  /** The (decompressed) body; valid until the next scrape of the same client. */
  readonly body: Buffer;
  readonly contentType: string;
}

const TLS_VERSIONS: Record<string, 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3'> = {
  TLS10: 'TLSv1',
  TLS11: 'TLSv1.1',
  TLS12: 'TLSv1.2',
  TLS13: 'TLSv1.3',
};

const MAX_REDIRECTS = 10;

function readSecret(inline: string | undefined, file: string | undefined, what: string): string {
  if (inline !== undefined) return inline;
  if (file === undefined) return '';
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new ScrapeError(`unable to read ${what} file ${file}: ${(err as Error).message}`);
  }
}

/** Agents and credentials for one scrape config's `http_config`. */
export class HttpClient {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;

  constructor(private readonly opts: HttpClientOptions) {
    this.httpAgent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
    const tls = opts.tlsConfig;
    const file = (p: string | undefined): Buffer | undefined => {
      if (p === undefined) return undefined;
      return readFileSync(p);
    };
    this.httpsAgent = new https.Agent({
      keepAlive: true,
      ca: tls?.ca ?? file(tls?.caFile),
      cert: tls?.cert ?? file(tls?.certFile),
      key: tls?.key ?? file(tls?.keyFile),
      servername: tls?.serverName,
      rejectUnauthorized: !(tls?.insecureSkipVerify ?? false),
      minVersion: tls?.minVersion ? TLS_VERSIONS[tls.minVersion] : undefined,
      maxVersion: tls?.maxVersion ? TLS_VERSIONS[tls.maxVersion] : undefined,
    });
  }

  /** The Authorization header for a request, read fresh (files may rotate). */
  authorization(): string | undefined {
    const o = this.opts;
    if (o.basicAuth) {
      const u = readSecret(o.basicAuth.username, o.basicAuth.usernameFile, 'basic auth username');
      const p = readSecret(o.basicAuth.password, o.basicAuth.passwordFile, 'basic auth password');
      return 'Basic ' + Buffer.from(`${u}:${p}`).toString('base64');
    }
    if (o.authorization) {
      const c = readSecret(o.authorization.credentials, o.authorization.credentialsFile, 'authorization credentials');
      return `${o.authorization.type || 'Bearer'} ${c}`;
    }
    if (o.bearerToken !== undefined || o.bearerTokenFile !== undefined) {
      return 'Bearer ' + readSecret(o.bearerToken, o.bearerTokenFile, 'bearer token');
    }
    return undefined;
  }

  get followRedirects(): boolean {
    return this.opts.followRedirects;
  }

  /** Extra configured headers (`http_headers`: values only; secrets and files are read here). */
  extraHeaders(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    const h = this.opts.httpHeaders;
    if (!h) return out;
    for (const [name, spec] of Object.entries(h)) {
      const vals: string[] = [...(spec.values ?? []), ...(spec.secrets ?? [])];
      for (const f of spec.files ?? []) vals.push(readSecret(undefined, f, `header ${name}`));
      if (vals.length > 0) out[name] = vals;
    }
    return out;
  }

  agent(url: URL): http.Agent {
    return url.protocol === 'https:' ? this.httpsAgent : this.httpAgent;
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}

export interface ScrapeRequest {
  readonly url: string;
  readonly accept: string;
  readonly gzip: boolean;
  /** ms. */
  readonly timeout: number;
  /** bytes of uncompressed body; 0 = none. */
  readonly bodySizeLimit: number;
  readonly userAgent: string;
}

/**
 * Reads a response into one reusable buffer per target (grown as needed, like Prometheus's
 * buffer pool sized by the last scrape).
 */
export class BodyBuffer {
  buf: Buffer = Buffer.allocUnsafe(16 * 1024);
  len = 0;
  reset(): void {
    this.len = 0;
    // Shrink when a scrape was once huge and no longer is.
    if (this.buf.length > 4 * 1024 * 1024 && this.lastLen < this.buf.length / 4) this.buf = Buffer.allocUnsafe(Math.max(16 * 1024, this.lastLen * 2));
  }
  private lastLen = 0;
  push(chunk: Buffer): void {
    const need = this.len + chunk.length;
    if (need > this.buf.length) {
      let cap = this.buf.length * 2;
      while (cap < need) cap *= 2;
      const nb = Buffer.allocUnsafe(cap);
      this.buf.copy(nb, 0, 0, this.len);
      this.buf = nb;
    }
    chunk.copy(this.buf, this.len);
    this.len = need;
  }
  view(): Buffer {
    this.lastLen = this.len;
    return this.buf.subarray(0, this.len);
  }
}

/**
 * Performs one scrape: GET with Accept, Accept-Encoding, User-Agent and
 * X-Prometheus-Scrape-Timeout-Seconds; fails on non-200, on timeout (`context deadline
 * exceeded`, as Go words it) and when the uncompressed body reaches the limit (`body size limit
 * exceeded`).
 */
export function scrapeHttp(client: HttpClient, req: ScrapeRequest, into: BodyBuffer, signal?: AbortSignal): Promise<ScrapeResponse> {
  return new Promise<ScrapeResponse>((resolve, reject) => {
    let done = false;
    let current: http.ClientRequest | undefined;
    let cleanupStream: (() => void) | undefined;
    const finish = (err: Error | undefined, res?: ScrapeResponse): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (err) {
        current?.destroy();
        cleanupStream?.();
        reject(err);
      } else resolve(res!);
    };
    const timer = setTimeout(() => finish(new ScrapeError(`Get ${JSON.stringify(req.url)}: context deadline exceeded`, 'timeout')), req.timeout);
    const onAbort = (): void => finish(new ScrapeError(`Get ${JSON.stringify(req.url)}: context canceled`));
    signal?.addEventListener('abort', onAbort, { once: true });
    into.reset();

    let auth: string | undefined;
    let extra: Record<string, string[]>;
    try {
      auth = client.authorization();
      extra = client.extraHeaders();
    } catch (err) {
      finish(err as Error);
      return;
    }

    const get = (target: string, redirects: number): void => {
      let url: URL;
      try {
        url = new URL(target);
      } catch {
        finish(new ScrapeError(`parse ${JSON.stringify(target)}: invalid URL`));
        return;
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        finish(new ScrapeError(`Get ${JSON.stringify(target)}: unsupported protocol scheme ${JSON.stringify(url.protocol.slice(0, -1))}`));
        return;
      }
      const headers: http.OutgoingHttpHeaders = {
        ...extra,
        Accept: req.accept,
        'Accept-Encoding': req.gzip ? 'gzip' : 'identity',
        'User-Agent': req.userAgent,
        'X-Prometheus-Scrape-Timeout-Seconds': String(req.timeout / 1000),
      };
      if (auth !== undefined) headers['Authorization'] = auth;
      if (url.username || url.password) {
        headers['Authorization'] = 'Basic ' + Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64');
      }
      const mod = url.protocol === 'https:' ? https : http;
      const r = mod.request(url, { method: 'GET', headers, agent: client.agent(url) }, (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400 && status !== 304 && res.headers.location && client.followRedirects) {
          res.resume();
          if (redirects >= MAX_REDIRECTS) {
            finish(new ScrapeError(`Get ${JSON.stringify(target)}: stopped after ${MAX_REDIRECTS} redirects`));
            return;
          }
          get(new URL(res.headers.location, url).toString(), redirects + 1);
          return;
        }
        if (status !== 200) {
          res.resume();
          finish(new ScrapeError(`server returned HTTP status ${status} ${res.statusMessage ?? http.STATUS_CODES[status] ?? ''}`.trimEnd(), 'http'));
          return;
        }
        const limit = req.bodySizeLimit > 0 ? req.bodySizeLimit : Infinity;
        const gz = (res.headers['content-encoding'] ?? '').toLowerCase() === 'gzip';
        cleanupStream = () => res.destroy();
        const contentType = String(res.headers['content-type'] ?? '');
        if (!gz) {
          res.on('data', (chunk: Buffer) => {
            if (done) return;
            if (into.len + chunk.length >= limit) {
              finish(new ScrapeError('body size limit exceeded', 'body_size'));
              return;
            }
            into.push(chunk);
          });
          res.on('end', () => finish(undefined, { body: into.view(), contentType }));
        } else {
          // Collect the compressed body, then inflate it in one call: far cheaper than a
          // streaming gunzip for scrape-sized bodies (no callback per 16 KiB chunk).
          const chunks: Buffer[] = [];
          let compressed = 0;
          res.on('data', (chunk: Buffer) => {
            if (done) return;
            compressed += chunk.length;
            // A compressed body over the limit cannot inflate under it.
            if (compressed >= limit) {
              finish(new ScrapeError('body size limit exceeded', 'body_size'));
              return;
            }
            chunks.push(chunk);
          });
          res.on('end', () => {
            if (done) return;
            let out: Buffer;
            try {
              out = gunzipSync(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, compressed), limit === Infinity ? {} : { maxOutputLength: limit });
            } catch (err) {
              if (err instanceof RangeError || (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') finish(new ScrapeError('body size limit exceeded', 'body_size'));
              else finish(new ScrapeError(`gzip: ${(err as Error).message}`));
              return;
            }
            if (out.length >= limit) {
              finish(new ScrapeError('body size limit exceeded', 'body_size'));
              return;
            }
            finish(undefined, { body: out, contentType });
          });
        }
        res.on('error', (err: Error) => finish(new ScrapeError(err.message)));
      });
      current = r;
      r.on('error', (err: Error) => finish(new ScrapeError(`Get ${JSON.stringify(target)}: ${err.message}`)));
      r.end();
    };
    get(req.url, 0);
  });
}

/**
 * The scraper of one target: plain-http targets go through a {@link RawHttpConnection}
 * (prebuilt request, one keep-alive connection); https, URLs with credentials and redirects
 * through Node's client ({@link scrapeHttp}).
 */
export class TargetScraper {
  private readonly raw: RawHttpConnection | undefined;
  private readonly prefix: Buffer | undefined;
  private lastAuth: string | undefined;
  private authLine: Buffer = Buffer.alloc(0);

  constructor(
    private readonly client: HttpClient,
    private readonly req: ScrapeRequest,
  ) {
    let url: URL | undefined;
    try {
      url = new URL(req.url);
    } catch {
      url = undefined;
    }
    if (url && url.protocol === 'http:' && !url.username && !url.password) {
      const port = url.port === '' ? 80 : Number(url.port);
      const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
      this.raw = new RawHttpConnection(host, port);
      let head = `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nUser-Agent: ${req.userAgent}\r\nAccept: ${req.accept}\r\nAccept-Encoding: ${req.gzip ? 'gzip' : 'identity'}\r\nX-Prometheus-Scrape-Timeout-Seconds: ${req.timeout / 1000}\r\n`;
      for (const [name, vals] of Object.entries(client.extraHeaders())) for (const v of vals) head += `${name}: ${v}\r\n`;
      this.prefix = Buffer.from(head, 'latin1');
    }
  }

  /** One scrape (see {@link scrapeHttp} for the errors). */
  async scrape(into: BodyBuffer, signal: AbortSignal): Promise<ScrapeResponse> {
    if (this.raw === undefined) return scrapeHttp(this.client, this.req, into, signal);
    const auth = this.client.authorization();
    if (auth !== this.lastAuth) {
      this.lastAuth = auth;
      this.authLine = Buffer.from(auth === undefined ? '' : `Authorization: ${auth}\r\n`, 'latin1');
    }
    const request = Buffer.concat([this.prefix!, this.authLine, CRLF]);
    const limit = this.req.bodySizeLimit > 0 ? this.req.bodySizeLimit : Infinity;
    const url = this.req.url;
    let res: RawResponse;
    for (let attempt = 0; ; attempt++) {
      const { promise, cancel } = this.raw.request(request, into, limit);
      const timer = setTimeout(cancel, this.req.timeout);
      const onAbort = (): void => cancel();
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        res = await promise;
        break;
      } catch (err) {
        const e = err as RawHttpError;
        if (e.message === 'body size limit exceeded') throw new ScrapeError(e.message, 'body_size');
        if (e.message === 'canceled') {
          throw signal.aborted ? new ScrapeError(`Get ${JSON.stringify(url)}: context canceled`) : new ScrapeError(`Get ${JSON.stringify(url)}: context deadline exceeded`, 'timeout');
        }
        // A kept-alive connection the server had closed: retry once on a new one, as Go does.
        if (e.retryable && attempt === 0) continue;
        throw new ScrapeError(`Get ${JSON.stringify(url)}: ${e.message}`);
      } finally {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
      }
    }
    const status = res.status;
    if (status >= 300 && status < 400 && status !== 304 && res.location !== '' && this.client.followRedirects) {
      return scrapeHttp(this.client, this.req, into, signal);
    }
    if (status !== 200) {
      throw new ScrapeError(`server returned HTTP status ${status} ${res.reason || http.STATUS_CODES[status] || ''}`.trimEnd(), 'http');
    }
    if (res.contentEncoding === 'gzip') {
      const compressed = into.view();
      let out: Buffer;
      try {
        out = gunzipSync(compressed, limit === Infinity ? {} : { maxOutputLength: limit });
      } catch (err) {
        if (err instanceof RangeError || (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new ScrapeError('body size limit exceeded', 'body_size');
        throw new ScrapeError(`gzip: ${(err as Error).message}`);
      }
      if (out.length >= limit) throw new ScrapeError('body size limit exceeded', 'body_size');
      return { body: out, contentType: res.contentType };
    }
    return { body: into.view(), contentType: res.contentType };
  }

  close(): void {
    this.raw?.close();
  }
}

const CRLF = Buffer.from('\r\n');
