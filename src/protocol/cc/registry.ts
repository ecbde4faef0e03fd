// Congestion controllers by name, for the `congestion` option.

import { bbr } from './bbr.js';
import { newReno, type CongestionFactory } from './congestion.js';
import { cubicLt } from './cubic-lt.js';
import { cubic } from './cubic.js';

export const CONGESTION_CONTROLLERS = Object.freeze({ newreno: newReno, cubic, bbr, 'cubic-lt': cubicLt });

export type CongestionName = keyof typeof CONGESTION_CONTROLLERS;

/** The factory for a name (undefined for an unknown one), or the factory itself. */
export function congestionFactory(c: CongestionFactory | string): CongestionFactory | undefined {
  if (typeof c === 'function') return c;
  return Object.hasOwn(CONGESTION_CONTROLLERS, c) ? CONGESTION_CONTROLLERS[c as CongestionName] : undefined;
}
