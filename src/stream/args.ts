// Argument handling in node:net's style: normalizeArgs for connect/listen,
// and the validators whose errors (codes, messages) node:net throws.

import { isIP } from 'node:net';
import { CONGESTION_CONTROLLERS, congestionFactory } from '../protocol/cc/registry.js';
import { badPort, invalidArgType, invalidArgValue, outOfRange } from './errors.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
// biome-ignore lint/suspicious/noExplicitAny: node's callbacks take any arguments
export type Callback = (...args: any[]) => void;

function toNumber(x: unknown): number | false {
  const n = Number(x);
  return n >= 0 ? n : false;
}

/** A string that is not a port number: node:net treats it as an IPC path. */
export function isPipeName(s: unknown): s is string {
  return typeof s === 'string' && toNumber(s) === false;
}

/**
 * node:net's normalizeArgs: (options[...][, cb]) | (path[...][, cb]) | ([port][, host][...][, cb]).
 * Returns the options object (not copied) and the trailing callback or null.
 */
export function normalizeArgs(args: readonly unknown[]): [Record<string, unknown>, Callback | null] {
  if (args.length === 0) return [{}, null];
  const arg0 = args[0];
  let options: Record<string, unknown> = {};
  if (typeof arg0 === 'object' && arg0 !== null) {
    options = arg0 as Record<string, unknown>;
  } else if (isPipeName(arg0)) {
    options.path = arg0;
  } else {
    options.port = arg0;
    if (args.length > 1 && typeof args[1] === 'string') options.host = args[1];
  }
  const cb = args[args.length - 1];
  return [options, typeof cb === 'function' ? (cb as Callback) : null];
}

/** node's validatePort: a number or numeric string in [0, 65535] (or (0, 65535] without allowZero). */
export function validatePort(port: unknown, name = 'Port', allowZero = true): number {
  if (
    (typeof port !== 'number' && typeof port !== 'string') ||
    (typeof port === 'string' && port.trim().length === 0) ||
    +port !== +port >>> 0 ||
    +port > 0xffff ||
    (+port === 0 && !allowZero)
  ) {
    throw badPort(name, port, allowZero);
  }
  return +port | 0;
}

export function validateNumber(value: unknown, name: string, min?: number, max?: number): asserts value is number {
  if (typeof value !== 'number') throw invalidArgType(name, 'number', value);
  if ((min !== undefined && value < min) || (max !== undefined && value > max) || ((min !== undefined || max !== undefined) && Number.isNaN(value))) {
    const range = min !== undefined && max !== undefined ? `>= ${min} && <= ${max}` : min !== undefined ? `>= ${min}` : `<= ${max}`;
    throw outOfRange(name, range, value);
  }
}

export function validateFunction(value: unknown, name: string): asserts value is Callback {
  if (typeof value !== 'function') throw invalidArgType(name, 'function', value);
}

export function validateBoolean(value: unknown, name: string): asserts value is boolean {
  if (typeof value !== 'boolean') throw invalidArgType(name, 'boolean', value);
}

export function validateString(value: unknown, name: string): asserts value is string {
  if (typeof value !== 'string') throw invalidArgType(name, 'string', value);
}

export function validateAbortSignal(signal: unknown, name: string): asserts signal is AbortSignal {
  if (signal !== undefined && (signal === null || typeof signal !== 'object' || !('aborted' in signal))) {
    throw invalidArgType(name, 'AbortSignal', signal);
  }
}

export function validateObject(value: unknown, name: string): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalidArgType(name, 'object', value);
}

/** node's getTimerDuration: a finite number >= 0; above the timer maximum it becomes 1 (with node's warning). */
export function timerDuration(msecs: unknown, name: string): number {
  validateNumber(msecs, name);
  if (msecs < 0 || !Number.isFinite(msecs)) throw outOfRange(name, 'a non-negative finite number', msecs);
  if (msecs > 0x7fffffff) {
    process.emitWarning(`${msecs} does not fit into a 32-bit signed integer.\nTimer duration was truncated to 1.`, 'TimeoutOverflowWarning');
    return 1;
  }
  return msecs;
}

/** 'IPv4' | 'IPv6' for an IP literal (undefined for anything else). */
export function familyOf(ip: string): 'IPv4' | 'IPv6' | undefined {
  const v = isIP(ip);
  return v === 4 ? 'IPv4' : v === 6 ? 'IPv6' : undefined;
}

export function dnsFamily(family: unknown): number | undefined {
  if (family === 'IPv4') return 4;
  if (family === 'IPv6') return 6;
  if (family === undefined || family === null) return undefined;
  if (family === 0 || family === 4 || family === 6) return family;
  throw invalidArgValue('options.family', family, 'must be one of: 0, 4, 6');
}

/** Reject IPC paths: there are no pipes over UDP. */
export function rejectPath(options: Record<string, unknown>): void {
  if (options.path != null) throw invalidArgValue('options.path', options.path, 'is not supported (reliable-dgram runs over UDP only)');
}

/** Integer settings of `connection` and their ranges (a value out of range is an app error, not a network one). */
const CONNECTION_INTS: Record<string, [number, number]> = {
  mss: [64, 65_000],
  maxMss: [64, 65_000],
  sndBuf: [1, 2 ** 31],
  rcvBuf: [1, 2 ** 31],
  maxSndBuf: [0, 2 ** 31],
  maxRcvBuf: [0, 2 ** 31],
  msl: [0, 2 ** 31],
  synRetries: [0, 255],
  maxRetries: [0, 255],
  orphanRetries: [0, 255],
  delayedAck: [0, 500], // RFC 9293 §3.8.6.3: under 0.5 s
  challengeAckLimit: [0, 2 ** 31],
  keepAliveIdle: [0, 2 ** 31],
  keepAliveInterval: [1, 2 ** 31],
  keepAliveProbes: [0, 255],
  userTimeout: [0, 2 ** 31],
  finTimeout: [0, 2 ** 31],
};
const CONNECTION_BOOLS = ['noDelay', 'sack', 'tlp', 'pacing', 'keepAlive'];
const RTO_NUMBERS = ['rtoMin', 'rtoMax', 'rtoInitial', 'granularity'];

/** `connection` settings as node validates its own options: ERR_INVALID_ARG_TYPE or ERR_OUT_OF_RANGE, naming the field. */
export function validateConnectionOptions(value: unknown, name = 'options.connection'): void {
  if (value === undefined) return;
  validateObject(value, name);
  const o = value as Record<string, unknown>;
  for (const [k, [min, max]] of Object.entries(CONNECTION_INTS)) {
    const v = o[k];
    if (v === undefined) continue;
    validateNumber(v, `${name}.${k}`, min, max);
    if (!Number.isInteger(v)) throw outOfRange(`${name}.${k}`, 'an integer', v);
  }
  for (const k of CONNECTION_BOOLS) if (o[k] !== undefined) validateBoolean(o[k], `${name}.${k}`);
  if (typeof o.congestion === 'string') {
    if (!congestionFactory(o.congestion)) {
      throw invalidArgValue(`${name}.congestion`, o.congestion, `must be a function or one of: ${Object.keys(CONGESTION_CONTROLLERS).join(', ')}`);
    }
  } else if (o.congestion !== undefined) validateFunction(o.congestion, `${name}.congestion`);
  if (o.rto !== undefined) {
    validateObject(o.rto, `${name}.rto`);
    const r = o.rto as Record<string, unknown>;
    for (const k of RTO_NUMBERS) if (r[k] !== undefined) validateNumber(r[k], `${name}.rto.${k}`, 0, 2 ** 31);
  }
}
