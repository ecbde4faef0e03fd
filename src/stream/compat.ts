// node:net's module surface around Socket and Server: the constructors callable
// without `new`, net.Stream, the address helpers and family-selection defaults
// net exports (re-exported from node:net: they touch no socket), and a default
// export so `import net from 'reliable-dgram'` reads as `import net from 'node:net'`.

import nodeNet from 'node:net';
import { connect, createConnection, Socket as SocketClass } from './socket.js';
import { createServer, Server as ServerClass } from './server.js';
import { createEndpoint, LocalEndpoint } from './local-endpoint.js';

/** A class that can also be called as a function, as net's constructors can (`net.Socket()` === `new net.Socket()`). */
// biome-ignore lint/suspicious/noExplicitAny: any constructor
type Callable<C extends new (...args: any[]) => any> = C & ((...args: ConstructorParameters<C>) => InstanceType<C>);

// biome-ignore lint/suspicious/noExplicitAny: any constructor
function callable<C extends new (...args: any[]) => any>(C: C): Callable<C> {
  // Only [[Call]] is trapped: `new`, `instanceof`, `extends`, statics and the prototype are the class's own.
  const wrapped = new Proxy(C, { apply: (target, _this, args: unknown[]) => new target(...args) }) as Callable<C>;
  // So that `socket.constructor === net.Socket` holds for the exported name too.
  Object.defineProperty(C.prototype, 'constructor', { value: wrapped, writable: true, configurable: true, enumerable: false });
  return wrapped;
}

export const Socket = callable(SocketClass);
export type Socket = SocketClass;
export const Server = callable(ServerClass);
export type Server = ServerClass;
/** net.Stream: the old name of net.Socket. */
export const Stream = Socket;
export type Stream = SocketClass;

export const { isIP, isIPv4, isIPv6, SocketAddress, BlockList } = nodeNet;
// Happy Eyeballs defaults: net's own setting (and --network-family-autoselection), so both read the same value.
export const { getDefaultAutoSelectFamily, setDefaultAutoSelectFamily, getDefaultAutoSelectFamilyAttemptTimeout, setDefaultAutoSelectFamilyAttemptTimeout } =
  nodeNet;

let simultaneousAcceptsWarned = false;
/** Deprecated in net (DEP0121) and a no-op outside Windows; here a no-op everywhere, with net's warning. */
export function _setSimultaneousAccepts(_enable?: boolean): void {
  if (simultaneousAcceptsWarned) return;
  simultaneousAcceptsWarned = true;
  process.emitWarning('net._setSimultaneousAccepts() is deprecated and will be removed.', 'DeprecationWarning', 'DEP0121');
}

/** Everything `import net from 'node:net'` gives for TCP, plus this library's endpoints. */
const net = {
  Socket,
  Server,
  Stream,
  connect,
  createConnection,
  createServer,
  isIP,
  isIPv4,
  isIPv6,
  SocketAddress,
  BlockList,
  getDefaultAutoSelectFamily,
  setDefaultAutoSelectFamily,
  getDefaultAutoSelectFamilyAttemptTimeout,
  setDefaultAutoSelectFamilyAttemptTimeout,
  _setSimultaneousAccepts,
  LocalEndpoint,
  createEndpoint,
};
export default net;
