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

/** Calls `onRefused` if the OS reports `peer`'s port closed within a second. Never throws. */
export function checkPortOpen(peer: Address, onRefused: (err: NodeJS.ErrnoException) => void): void {
  const key = `${peer.address}|${peer.port}`;
  if (pending.has(key) || pending.size >= MAX_PENDING) return;
  pending.add(key);
  let done = false;
  let socket: dgram.Socket | undefined;
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
  socket = connectThrowAway(
    peer,
    (s) =>
      s.send(PROBE, (err) => {
        if (err) finish(err as NodeJS.ErrnoException);
      }),
    finish,
  );
}

/**
 * The local address the OS sends to `peer` from, found by connecting a throw-away socket to it
 * (nothing is sent). Rejects with the connect error: ENETUNREACH when no route leads there.
 */
export function routeTo(peer: Address): Promise<string> {
  return new Promise((resolve, reject) => {
    connectThrowAway(
      peer,
      (s) => {
        try {
          resolve(s.address().address);
        } catch (err) {
          reject(err as Error);
        }
        closeQuietly(s);
      },
      reject,
    );
  });
}

/**
 * An unref'd socket connected to `peer`: `connected` runs once it is (the caller closes it then);
 * on any error, the connect's included (dgram calls back with it when there is no route), it is
 * closed and `fail` runs, possibly before this returns. Undefined when no socket could be made.
 */
function connectThrowAway(peer: Address, connected: (socket: dgram.Socket) => void, fail: (err: NodeJS.ErrnoException) => void): dgram.Socket | undefined {
  let socket: dgram.Socket;
  try {
    socket = dgram.createSocket(peer.address.includes(':') ? 'udp6' : 'udp4');
  } catch (err) {
    fail(err as NodeJS.ErrnoException);
    return undefined;
  }
  const failed = (err: NodeJS.ErrnoException): void => {
    closeQuietly(socket);
    fail(err);
  };
  socket.unref();
  socket.on('error', failed);
  try {
    socket.connect(peer.port, peer.address, (err?: Error) => {
      if (err) failed(err as NodeJS.ErrnoException);
      else connected(socket);
    });
  } catch (err) {
    failed(err as NodeJS.ErrnoException);
  }
  return socket;
}

function closeQuietly(socket: dgram.Socket | undefined): void {
  try {
    socket?.close();
  } catch {
    // already closed
  }
}
