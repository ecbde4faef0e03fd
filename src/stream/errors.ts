// Errors shaped like node:net's: the same `code`, class, message and extra
// fields (errno, syscall, address, port), so code that inspects them works.

import { constants } from 'node:os';
import { getSystemErrorMap, inspect } from 'node:util';

export type NodeError = Error & { code: string };

function make<E extends Error>(Base: new (m: string) => E, code: string, message: string): E & { code: string } {
  const e = new Base(message) as E & { code: string };
  e.code = code;
  return e;
}

/** node's determineSpecificType: how a received value is described in messages. */
export function describe(value: unknown): string {
  if (value == null) return String(value);
  if (typeof value === 'function' && value.name) return `function ${value.name}`;
  if (typeof value === 'object') {
    const name = (value as { constructor?: { name?: string } }).constructor?.name;
    if (name) return `an instance of ${name}`;
    return inspect(value, { depth: -1 });
  }
  let s = inspect(value, { colors: false });
  if (s.length > 28) s = `${s.slice(0, 25)}...`;
  return `type ${typeof value} (${s})`;
}

const PRIMITIVES = new Set(['string', 'function', 'number', 'object', 'boolean', 'bigint', 'symbol']);

function oneOf(prefix: string, xs: string[]): string {
  if (xs.length > 2) return `one of ${prefix} ${xs.slice(0, -1).join(', ')}, or ${xs.at(-1)}`;
  if (xs.length === 2) return `one of ${prefix} ${xs[0]} or ${xs[1]}`;
  return `of ${prefix} ${xs[0]}`;
}

/** node's ERR_INVALID_ARG_TYPE, e.g. 'The "options.port" property must be one of type number or string. Received ...'. */
export function invalidArgType(name: string, expected: string | string[], actual: unknown): NodeError {
  const list = Array.isArray(expected) ? expected : [expected];
  const types = list.filter((t) => PRIMITIVES.has(t.toLowerCase())).map((t) => t.toLowerCase());
  const instances = list.filter((t) => !PRIMITIVES.has(t.toLowerCase()));
  const kind = name.includes('.') ? 'property' : 'argument';
  const parts: string[] = [];
  if (types.length > 0) parts.push(oneOf('type', types));
  if (instances.length > 0) parts.push(`an instance of ${instances.join(' or ')}`);
  return make(TypeError, 'ERR_INVALID_ARG_TYPE', `The "${name}" ${kind} must be ${parts.join(' or ')}. Received ${describe(actual)}`);
}

export function invalidArgValue(name: string, value: unknown, reason = 'is invalid'): NodeError {
  const kind = name.includes('.') ? 'property' : 'argument';
  let s = inspect(value);
  if (s.length > 128) s = `${s.slice(0, 128)}...`;
  return make(TypeError, 'ERR_INVALID_ARG_VALUE', `The ${kind} '${name}' ${reason}. Received ${s}`);
}

export function badPort(name: string, port: unknown, allowZero = true): NodeError {
  const op = allowZero ? '>=' : '>';
  return make(RangeError, 'ERR_SOCKET_BAD_PORT', `${name} should be ${op} 0 and < 65536. Received ${describe(port)}.`);
}

export function outOfRange(name: string, range: string, received: unknown): NodeError {
  return make(RangeError, 'ERR_OUT_OF_RANGE', `The value of "${name}" is out of range. It must be ${range}. Received ${String(received)}`);
}

export function missingArgs(...names: string[]): NodeError {
  return make(TypeError, 'ERR_MISSING_ARGS', `The ${names.map((n) => `"${n}"`).join(' or ')} argument must be specified`);
}

export function invalidIpAddress(ip: unknown): NodeError {
  return make(TypeError, 'ERR_INVALID_IP_ADDRESS', `Invalid IP address: ${String(ip)}`);
}

/** node's ERR_INVALID_ADDRESS_FAMILY: a lookup answered with a family other than 4 or 6. */
export function invalidAddressFamily(addressType: unknown, host: string, port: number): NodeError & { host: string; port: number } {
  const e = make(RangeError, 'ERR_INVALID_ADDRESS_FAMILY', `Invalid address family: ${String(addressType)} ${host}:${port}`) as NodeError & {
    host: string;
    port: number;
  };
  e.host = host;
  e.port = port;
  return e;
}

export const serverAlreadyListen = (): NodeError => make(Error, 'ERR_SERVER_ALREADY_LISTEN', 'Listen method has been called more than once without closing.');
export const serverNotRunning = (): NodeError => make(Error, 'ERR_SERVER_NOT_RUNNING', 'Server is not running.');
export const socketClosed = (): NodeError => make(Error, 'ERR_SOCKET_CLOSED', 'Socket is closed');
export const socketClosedBeforeConnection = (): NodeError =>
  make(Error, 'ERR_SOCKET_CLOSED_BEFORE_CONNECTION', 'Socket closed before the connection was established');
export const socketConnecting = (): NodeError => make(Error, 'ERR_SOCKET_CONNECTING', 'Socket is already connecting or connected');

/** node's genericNodeError for 'This socket has been ended by the other party'. */
export function endedByPeer(): NodeError {
  return make(Error, 'EPIPE', 'This socket has been ended by the other party');
}

/** Negative errno (libuv style) for an errno name, e.g. ECONNREFUSED → -111 on Linux. */
export function uvErrno(code: string): number {
  const n = (constants.errno as Record<string, number | undefined>)[code];
  return n === undefined ? -1 : -n;
}

function uvMessage(errno: number, code: string): string {
  return getSystemErrorMap().get(errno)?.[1] ?? code.toLowerCase();
}

export type ErrnoError = NodeJS.ErrnoException & { address?: string; port?: number };

/** node's ErrnoException: `${syscall} ${code}`, e.g. 'read ECONNRESET'. */
export function errnoException(code: string, syscall: string): ErrnoError {
  const e = new Error(`${syscall} ${code}`) as ErrnoError;
  e.errno = uvErrno(code);
  e.code = code;
  e.syscall = syscall;
  return e;
}

/** node's ExceptionWithHostPort: 'connect ECONNREFUSED 127.0.0.1:8080'. */
export function exceptionWithHostPort(code: string, syscall: string, address: string, port?: number, local?: string): ErrnoError {
  let details = port !== undefined && port > 0 ? ` ${address}:${port}` : address ? ` ${address}` : '';
  if (local) details += ` - Local (${local})`;
  const e = new Error(`${syscall} ${code}${details}`) as ErrnoError;
  e.errno = uvErrno(code);
  e.code = code;
  e.syscall = syscall;
  e.address = address;
  if (port) e.port = port;
  return e;
}

/** node's UVExceptionWithHostPort: 'listen EADDRINUSE: address already in use 127.0.0.1:80'. */
export function uvExceptionWithHostPort(code: string, syscall: string, address: string, port?: number): ErrnoError {
  const errno = uvErrno(code);
  const details = port !== undefined && port > 0 ? ` ${address}:${port}` : address ? ` ${address}` : '';
  const e = new Error(`${syscall} ${code}: ${uvMessage(errno, code)}${details}`) as ErrnoError;
  e.errno = errno;
  e.code = code;
  e.syscall = syscall;
  e.address = address;
  if (port) e.port = port;
  return e;
}
