// Clinical scoring for the PWA: pure functions over the shared instrument data.
export * from './nhsNumber.js';
export * from './falls.js';
export * from './activation.js';
export { instruments } from './instruments.js';
export { fill, formatNumber } from './format.js';
