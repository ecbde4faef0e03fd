// Asking the OS whether a peer's UDP port is still open, from a socket that is not
// connected to it. Linux reports ICMP port unreachable only to connected UDP sockets,
// so a server's shared socket never learns that a client's process died. A throw-away
// socket connected to the peer sends it one byte (which no reliable-dgram endpoint
// decodes: it is counted and dropped) and listens for ECONNREFUSED for a short while.

import dgram from 'node:dgram';
import type { Address } from '../endpoint/types.js';

/** How long to wait for the OS's answer, ms. */
const WAIT_MS = 1000;
const PROBE = new Uint8Array([0]);

/** Peers with a check under way (one at a time per peer, and a bounded number in all). */
const pending = new Set<string>();
const MAX_PENDING = 64;

type OnRefused = (err: NodeJS.ErrnoException) => void;

const keyOf = (peer: Address): string => `${peer.address}|${peer.port}`;

/** A throw-away socket connected to `peer` (unref'd), to `onReady`; or the error (no route...) to `onFail`. */
function connectTo(peer: Address, onReady: (socket: dgram.Socket) => void, onFail: (err: NodeJS.ErrnoException) => void): void {
  let socket: dgram.Socket;
  try {
    socket = dgram.createSocket(peer.address.includes(':') ? 'udp6' : 'udp4');
  } catch (err) {
    onFail(err as NodeJS.ErrnoException);
    return;
  }
  let settled = false;
  const fail = (err: Error): void => {
    if (settled) return;
    settled = true;
    closeQuietly(socket);
    onFail(err as NodeJS.ErrnoException);
  };
  socket.unref();
  socket.once('error', fail);
  try {
    // dgram calls back with the error when the connect fails (no route).
    socket.connect(peer.port, peer.address, (err?: Error) => {
      if (err) return fail(err);
      if (settled) return;
      settled = true;
      socket.removeListener('error', fail);
      onReady(socket);
    });
  } catch (err) {
    fail(err as Error);
  }
}

function closeQuietly(socket: dgram.Socket): void {
  try {
    socket.close();
  } catch {
    // already closed
  }
}

/** From `socket`, connected to the peer, send the probe and wait for the OS's answer; then close it. */
function probe(socket: dgram.Socket, key: string, onRefused: OnRefused): void {
  let done = false;
  const finish = (err?: NodeJS.ErrnoException): void => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    pending.delete(key);
    closeQuietly(socket);
    if (err?.code === 'ECONNREFUSED') onRefused(err);
  };
  const timer = setTimeout(finish, WAIT_MS);
  timer.unref();
  socket.on('error', finish);
  socket.send(PROBE, (err) => {
    if (err) finish(err as NodeJS.ErrnoException);
  });
}

/** Calls `onRefused` if the OS reports `peer`'s port closed within a second. Never throws. */
export function checkPortOpen(peer: Address, onRefused: OnRefused): void {
  const key = keyOf(peer);
  if (pending.has(key) || pending.size >= MAX_PENDING) return;
  pending.add(key);
  connectTo(
    peer,
    (socket) => probe(socket, key, onRefused),
    () => pending.delete(key),
  );
}

/**
 * Resolves with the local address the OS sends to `peer` from (rejects with the connect error:
 * ENETUNREACH when no route leads there), then asks from the same throw-away socket whether the
 * port is open, as checkPortOpen. The probe leaves after this turn's microtasks, so after a
 * datagram the caller sends on resolution (a SYN): a relay that keeps its first sender keeps the caller.
 */
export function routeAndCheck(peer: Address, onRefused: OnRefused): Promise<string> {
  return new Promise((resolve, reject) => {
    connectTo(
      peer,
      (socket) => {
        let local: string;
        try {
          local = socket.address().address;
        } catch (err) {
          closeQuietly(socket);
          reject(err as Error);
          return;
        }
        resolve(local);
        const key = keyOf(peer);
        if (pending.has(key) || pending.size >= MAX_PENDING) {
          closeQuietly(socket);
          return;
        }
        pending.add(key);
        setImmediate(() => probe(socket, key, onRefused));
      },
      reject,
    );
  });
}
