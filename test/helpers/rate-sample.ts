// A congestion controller's rate sample with every field defaulted, for unit tests.
import type { RateSample } from '../../src/protocol/cc/congestion.js';

export const sample = (over: Partial<RateSample>): RateSample => ({
  delivered: 0,
  interval: 0,
  rate: 0,
  priorDelivered: 0,
  appLimited: false,
  newlyAcked: 0,
  newlyLost: 0,
  rtt: -1,
  ...over,
});
