/**
 * A minimal HTTP/1.1 client for plain-http scrapes: one keep-alive connection per target,
 * a prebuilt request, and a response parser that copies the body straight into the loop's
 * buffer. Node's http client costs ~250 µs of CPU per request (streams, events, header
 * objects); this one a fraction of it, and scrapes are mostly this overhead on small bodies.
 * Anything unusual (redirects) is left to the caller, which falls back to Node's client.
 */

import net from 'node:net';
import type { BodyBuffer } from './http.js';

export interface RawResponse {
  readonly status: number;
  readonly reason: string;
  readonly contentType: string;
  readonly contentEncoding: string;
  readonly location: string;
  /** Bytes of the (possibly compressed) body, in `into`. */
  readonly bodyLength: number;
}

const MAX_HEADER_BYTES = 64 * 1024;
const CRLF2 = Buffer.from('\r\n\r\n');

const enum State {
  Head,
  Fixed,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailers,
  UntilClose,
  Done,
}

export class RawHttpError extends Error {
  constructor(
    message: string,
    /** True when nothing was received on a reused connection: safe to retry on a new one. */
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

/** One keep-alive connection to host:port. Not concurrent: one request at a time. */
export class RawHttpConnection {
  private socket: net.Socket | undefined;
  private reused = false;

  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {}

  /**
   * Sends `request` (a complete GET) and reads the response into `into`. `limit` bounds the
   * body bytes received (the caller words the error). Rejects with {@link RawHttpError}.
   */
  request(request: Buffer, into: BodyBuffer, limit: number): { promise: Promise<RawResponse>; cancel: () => void } {
    let cancel = (): void => undefined;
    const promise = new Promise<RawResponse>((resolve, reject) => {
      let sock = this.socket;
      const reused = sock !== undefined && this.reused;
      if (sock === undefined || sock.destroyed) {
        sock = net.connect({ host: this.host, port: this.port, noDelay: true });
        this.socket = sock;
        this.reused = false;
      }
      const s = sock;
      let state = State.Head;
      let head: Buffer | undefined;
      let status = 0, reason = '', contentType = '', contentEncoding = '', location = '';
      let remaining = 0;
      let keepAlive = true;
      let received = 0;
      let chunkLine = '';
      let settled = false;

      const cleanup = (): void => {
        s.removeListener('data', onData);
        s.removeListener('error', onError);
        s.removeListener('close', onClose);
      };
      const fail = (msg: string, retryable: boolean): void => {
        if (settled) return;
        settled = true;
        cleanup();
        s.destroy();
        if (this.socket === s) this.socket = undefined;
        reject(new RawHttpError(msg, retryable));
      };
      const done = (): void => {
        if (settled) return;
        settled = true;
        cleanup();
        if (keepAlive) {
          this.reused = true;
        } else {
          s.destroy();
          if (this.socket === s) this.socket = undefined;
        }
        resolve({ status, reason, contentType, contentEncoding, location, bodyLength: into.len });
      };
      cancel = () => fail('canceled', false);

      const body = (buf: Buffer, start: number): void => {
        let i = start;
        while (i < buf.length && state !== State.Done) {
          switch (state) {
            case State.Fixed: {
              const n = Math.min(remaining, buf.length - i);
              if (into.len + n >= limit) return fail('body size limit exceeded', false);
              into.push(buf.subarray(i, i + n));
              i += n;
              remaining -= n;
              if (remaining === 0) state = State.Done;
              break;
            }
            case State.UntilClose: {
              if (into.len + buf.length - i >= limit) return fail('body size limit exceeded', false);
              into.push(buf.subarray(i));
              i = buf.length;
              break;
            }
            case State.ChunkSize:
            case State.Trailers: {
              const nl = buf.indexOf(0x0a, i);
              if (nl < 0) {
                chunkLine += buf.toString('latin1', i, buf.length);
                if (chunkLine.length > 4096) return fail('malformed chunked encoding', false);
                i = buf.length;
                break;
              }
              const line = (chunkLine + buf.toString('latin1', i, nl)).replace(/\r$/, '');
              chunkLine = '';
              i = nl + 1;
              if (state === State.Trailers) {
                if (line === '') state = State.Done;
                break;
              }
              const size = parseInt(line.split(';', 1)[0]!.trim(), 16);
              if (!Number.isFinite(size) || size < 0) return fail('malformed chunked encoding', false);
              if (size === 0) state = State.Trailers;
              else {
                remaining = size;
                state = State.ChunkData;
              }
              break;
            }
            case State.ChunkData: {
              const n = Math.min(remaining, buf.length - i);
              if (into.len + n >= limit) return fail('body size limit exceeded', false);
              into.push(buf.subarray(i, i + n));
              i += n;
              remaining -= n;
              if (remaining === 0) state = State.ChunkDataEnd;
              break;
            }
            case State.ChunkDataEnd: {
              // CRLF after the chunk data (tolerate a lone LF).
              const c = buf[i]!;
              i++;
              if (c === 0x0a) state = State.ChunkSize;
              else if (c !== 0x0d) return fail('malformed chunked encoding', false);
              break;
            }
            default:
              return;
          }
        }
        if (state === State.Done) done();
      };

      const parseHead = (h: Buffer, end: number): number => {
        const text = h.toString('latin1', 0, end);
        const lines = text.split('\r\n');
        const m = /^HTTP\/1\.([01]) (\d{3})(?: (.*))?$/.exec(lines[0]!);
        if (!m) {
          fail(`malformed HTTP response ${JSON.stringify(lines[0]!.slice(0, 40))}`, false);
          return -1;
        }
        status = Number(m[2]);
        reason = m[3] ?? '';
        keepAlive = m[1] === '1';
        let length = -1;
        let chunked = false;
        for (let k = 1; k < lines.length; k++) {
          const line = lines[k]!;
          const c = line.indexOf(':');
          if (c <= 0) continue;
          const name = line.slice(0, c).trim().toLowerCase();
          const value = line.slice(c + 1).trim();
          switch (name) {
            case 'content-length':
              length = Number(value);
              if (!Number.isSafeInteger(length) || length < 0) {
                fail(`invalid Content-Length ${JSON.stringify(value)}`, false);
                return -1;
              }
              break;
            case 'transfer-encoding':
              chunked = value.toLowerCase().split(',').map((x) => x.trim()).includes('chunked');
              break;
            case 'content-type':
              contentType = value;
              break;
            case 'content-encoding':
              contentEncoding = value.toLowerCase();
              break;
            case 'location':
              location = value;
              break;
            case 'connection': {
              const v = value.toLowerCase();
              if (v.includes('close')) keepAlive = false;
              else if (v.includes('keep-alive')) keepAlive = true;
              break;
            }
          }
        }
        if (status >= 100 && status < 200) return 1; // interim response: read the next head
        if (chunked) state = State.ChunkSize;
        else if (length >= 0) {
          remaining = length;
          state = length === 0 || status === 204 || status === 304 ? State.Done : State.Fixed;
        } else if (status === 204 || status === 304) state = State.Done;
        else {
          state = State.UntilClose;
          keepAlive = false;
        }
        return 0;
      };

      const onData = (chunk: Buffer): void => {
        received += chunk.length;
        if (state !== State.Head) {
          body(chunk, 0);
          return;
        }
        let buf = head === undefined ? chunk : Buffer.concat([head, chunk]);
        for (;;) {
          const end = buf.indexOf(CRLF2);
          if (end < 0) {
            if (buf.length > MAX_HEADER_BYTES) return fail('response headers too large', false);
            head = buf;
            return;
          }
          head = undefined;
          const r = parseHead(buf, end);
          if (r < 0) return;
          buf = buf.subarray(end + 4);
          if (r === 1) {
            state = State.Head;
            continue;
          }
          if ((state as State) === State.Done) done();
          else if (buf.length > 0) body(buf, 0);
          return;
        }
      };
      const onError = (err: Error): void => fail(err.message, reused && received === 0);
      const onClose = (): void => {
        if (state === State.UntilClose) {
          state = State.Done;
          keepAlive = false;
          done();
          return;
        }
        fail('EOF', reused && received === 0);
      };
      s.on('data', onData);
      s.on('error', onError);
      s.on('close', onClose);
      into.reset();
      s.write(request);
    });
    return { promise, cancel };
  }

  close(): void {
    this.socket?.destroy();
    this.socket = undefined;
  }
}
