/** The release this bundle belongs to (set at build time by vite.config.js). */
// eslint-disable-next-line no-undef
export const BUILD_ID = typeof __BUILD_ID__ === 'string' ? __BUILD_ID__ : 'dev';
