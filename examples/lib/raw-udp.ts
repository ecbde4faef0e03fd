// The raw-UDP side of the demo: node:dgram, one datagram per chunk or message,
// no acknowledgements, no retransmission, no ordering. A 4-byte chunk index is
// prepended to each file chunk only so the demo can score what arrived; the
// "application" just appends payloads in arrival order.
import type dgram from 'node:dgram';
import type { Address } from 'reliable-dgram';
import { parseMessageLines, scoreArrivals, sha256, type ArrivalScore } from './data.js';
import { bindUdp } from './udp-socket.js';

export interface FileOutcome {
  size: number;
  /** Bytes the receiver ended up with (all arrivals, duplicates included). */
  bytesReceived: number;
  /** Bytes of the file that never arrived. */
  bytesMissing: number;
  chunks: ArrivalScore;
  /** Received bytes, concatenated in arrival order, equal the file. */
  sha256Match: boolean;
}

export interface MessageOutcome {
  score: ArrivalScore;
  /** Every message exactly once, in order. */
  intact: boolean;
}

export interface SideOutcome {
  file: FileOutcome;
  messages: MessageOutcome;
  timeMs: number;
  /** Datagrams both ends handed to their UDP sockets, per flow (both directions). */
  datagrams: { file: number; messages: number };
}

/** Datagrams per event-loop turn: keeps the sender from overrunning socket buffers on its own host. */
const BATCH = 32;
/** The receiver waits this long after the last arrival before it gives up on stragglers. */
const QUIET_MS = 150;

/** Send `datagrams` from a fresh socket to `to`, paced by event-loop turns. */
async function blast(datagrams: Buffer[], to: Address): Promise<number> {
  const s = await bindUdp();
  let sent = 0;
  for (let i = 0; i < datagrams.length; i += BATCH) {
    for (const d of datagrams.slice(i, i + BATCH)) {
      s.send(d, to.port, to.address);
      sent++;
    }
    await new Promise((r) => setImmediate(r));
  }
  await new Promise((r) => setTimeout(r, 5));
  s.close();
  return sent;
}

/** Resolves once nothing has arrived for QUIET_MS after `sendDone`. */
function quiet(lastArrival: () => number, sendDone: Promise<unknown>): Promise<void> {
  return sendDone.then(
    () =>
      new Promise<void>((resolve) => {
        const check = (): void => {
          const idle = performance.now() - lastArrival();
          if (idle >= QUIET_MS) resolve();
          else setTimeout(check, QUIET_MS - idle + 1);
        };
        check();
      }),
  );
}

/**
 * Send `file` in `chunk`-byte datagrams and `msgs` one datagram each, over
 * two raw UDP flows to two receivers; `route(server)` gives the address a
 * sender should use to reach `server` (the server itself, or a relay in front).
 */
/** What each side of the comparison sends, and how a sender reaches a server. */
export interface SideInput {
  file: Buffer;
  chunk: number;
  msgs: string[];
  route: (server: Address) => Promise<Address>;
}

export async function runRawUdp(opts: SideInput): Promise<SideOutcome> {
  const { file, chunk, msgs } = opts;
  const nChunks = Math.ceil(file.length / chunk);
  const fileRx = await bindUdp();
  const msgRx = await bindUdp();
  let last = performance.now();
  const chunkArrivals: number[] = [];
  const pieces: Buffer[] = [];
  const have = new Uint8Array(nChunks);
  fileRx.on('message', (m) => {
    last = performance.now();
    if (m.length < 4) return;
    const idx = m.readUInt32BE(0);
    chunkArrivals.push(idx);
    pieces.push(m.subarray(4));
    if (idx < nChunks) have[idx] = 1;
  });
  let text = '';
  msgRx.on('message', (m) => {
    last = performance.now();
    text += `${m.toString('utf8')}\n`;
  });
  const addr = (s: dgram.Socket): Address => ({ address: '127.0.0.1', port: s.address().port });
  const [fileTo, msgTo] = await Promise.all([opts.route(addr(fileRx)), opts.route(addr(msgRx))]);

  const fileDatagrams: Buffer[] = [];
  for (let i = 0; i < nChunks; i++) {
    const head = Buffer.alloc(4);
    head.writeUInt32BE(i, 0);
    fileDatagrams.push(Buffer.concat([head, file.subarray(i * chunk, (i + 1) * chunk)]));
  }
  const msgDatagrams = msgs.map((m) => Buffer.from(m, 'utf8'));

  const t0 = performance.now();
  const sending = Promise.all([blast(fileDatagrams, fileTo), blast(msgDatagrams, msgTo)]);
  await quiet(() => last, sending);
  const [a, b] = await sending;
  const timeMs = Math.max(0, last - t0);
  fileRx.close();
  msgRx.close();

  let missing = 0;
  for (let i = 0; i < nChunks; i++) if (!have[i]) missing += Math.min(chunk, file.length - i * chunk);
  const bytesReceived = pieces.reduce((s, p) => s + p.length, 0);
  const score = scoreArrivals(parseMessageLines(text), msgs.length);
  return {
    file: {
      size: file.length,
      bytesReceived,
      bytesMissing: missing,
      chunks: scoreArrivals(chunkArrivals, nChunks),
      sha256Match: bytesReceived === file.length && sha256(pieces) === sha256(file),
    },
    messages: { score, intact: isIntact(score) },
    timeMs,
    datagrams: { file: a, messages: b },
  };
}

export function isIntact(s: ArrivalScore): boolean {
  return s.missing === 0 && s.duplicates === 0 && s.outOfOrder === 0 && s.unique === s.total;
}
