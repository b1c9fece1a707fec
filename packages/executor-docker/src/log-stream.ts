// Docker's log stream format for containers without a TTY (the only kind tswarm creates):
// frames of an 8-byte header — stream type (1 stdout, 2 stderr), three zero bytes, payload
// length as a big-endian uint32 — then the payload. Frames do not align with lines, so each
// stream keeps its own partial line. With `timestamps=1` every line starts with an RFC 3339
// timestamp and a space.

export interface LogLine {
  stderr: boolean;
  /** The line as the container wrote it, with its newline (absent only on a final partial line). */
  data: Buffer;
  /** From Docker's timestamp prefix; 0 when there was none. */
  timestampMs: number;
}

const HEADER_BYTES = 8;
const STDERR = 2;

/** Turns chunks of a multiplexed log stream into complete lines, in order. */
export class LogDemuxer {
  private pending: Buffer = Buffer.alloc(0);
  private readonly partial: [Buffer, Buffer] = [Buffer.alloc(0), Buffer.alloc(0)];

  /** Feeds a chunk; returns the lines it completed. */
  push(chunk: Buffer): LogLine[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const lines: LogLine[] = [];
    while (this.pending.length >= HEADER_BYTES) {
      const size = this.pending.readUInt32BE(4);
      if (this.pending.length < HEADER_BYTES + size) break;
      const stderr = this.pending[0] === STDERR;
      const payload = this.pending.subarray(HEADER_BYTES, HEADER_BYTES + size);
      this.pending = this.pending.subarray(HEADER_BYTES + size);
      this.splitLines(stderr, payload, lines);
    }
    return lines;
  }

  /** The stream ended: whatever partial lines remain. */
  end(): LogLine[] {
    const lines: LogLine[] = [];
    for (const stderr of [false, true]) {
      const rest = this.partial[stderr ? 1 : 0];
      if (rest.length > 0) lines.push(toLine(stderr, rest));
      this.partial[stderr ? 1 : 0] = Buffer.alloc(0);
    }
    return lines;
  }

  private splitLines(stderr: boolean, payload: Buffer, out: LogLine[]): void {
    const i = stderr ? 1 : 0;
    let buf = this.partial[i].length ? Buffer.concat([this.partial[i], payload]) : payload;
    for (let nl = buf.indexOf(0x0a); nl >= 0; nl = buf.indexOf(0x0a)) {
      out.push(toLine(stderr, buf.subarray(0, nl + 1)));
      buf = buf.subarray(nl + 1);
    }
    this.partial[i] = Buffer.from(buf); // copy: the chunk it points into is not ours to keep
  }
}

/** Splits Docker's "2024-05-01T12:34:56.123456789Z " prefix off a line. */
function toLine(stderr: boolean, raw: Buffer): LogLine {
  const space = raw.indexOf(0x20);
  if (space > 0 && space <= 40) {
    const ms = Date.parse(raw.subarray(0, space).toString('latin1'));
    if (!Number.isNaN(ms)) return { stderr, data: Buffer.from(raw.subarray(space + 1)), timestampMs: ms };
  }
  return { stderr, data: Buffer.from(raw), timestampMs: 0 };
}

/** A Docker log stream header followed by `payload`; for tests. */
export function frame(stderr: boolean, payload: string | Buffer): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const header = Buffer.alloc(HEADER_BYTES);
  header[0] = stderr ? STDERR : 1;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}
