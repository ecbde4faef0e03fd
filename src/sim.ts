// The `reliable-dgram/sim` entry point: the simulator, and `settle` to drive
// Socket/Server on it.
export * from './sim/index.js';
export { settle, type SettleOptions } from './io/settle.js';
