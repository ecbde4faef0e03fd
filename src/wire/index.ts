export * from './seq.js';
export * from './segment.js';
