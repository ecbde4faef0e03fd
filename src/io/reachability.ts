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
  let socket: dgram.Socket;
  try {
    socket = dgram.createSocket(peer.address.includes(':') ? 'udp6' : 'udp4');
  } catch {
    pending.delete(key);
    return;
  }
  let done = false;
  const finish = (err?: NodeJS.ErrnoException): void => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    pending.delete(key);
    try {
      socket.close();
    } catch {
      // already closed
    }
    if (err?.code === 'ECONNREFUSED') onRefused(err);
  };
  const timer = setTimeout(finish, WAIT_MS);
  timer.unref();
  socket.unref();
  socket.on('error', finish);
  try {
    // dgram calls back with the error when the connect fails (no route): then there is nothing to send.
    socket.connect(peer.port, peer.address, (err?: Error) => {
      if (err) {
        finish(err as NodeJS.ErrnoException);
        return;
      }
      socket.send(PROBE, (err) => {
        if (err) finish(err as NodeJS.ErrnoException);
      });
    });
  } catch (err) {
    finish(err as NodeJS.ErrnoException);
  }
}

/**
 * The local address the OS sends to `peer` from, found by connecting a throw-away socket to it
 * (nothing is sent). Rejects with the connect error: ENETUNREACH when no route leads there.
 */
export function routeTo(peer: Address): Promise<string> {
  return new Promise((resolve, reject) => {
    let socket: dgram.Socket;
    try {
      socket = dgram.createSocket(peer.address.includes(':') ? 'udp6' : 'udp4');
    } catch (err) {
      reject(err as Error);
      return;
    }
    const close = (): void => {
      try {
        socket.close();
      } catch {
        // already closed
      }
    };
    socket.unref();
    socket.on('error', (err) => {
      close();
      reject(err);
    });
    try {
      socket.connect(peer.port, peer.address, (err?: Error) => {
        if (err) {
          close();
          reject(err);
          return;
        }
        let address: string;
        try {
          address = socket.address().address;
        } catch (e) {
          close();
          reject(e as Error);
          return;
        }
        close();
        resolve(address);
      });
    } catch (err) {
      close();
      reject(err as Error);
    }
  });
}
