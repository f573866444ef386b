/**
 * crypto.js: the cryptographic steps of encryption at rest (docs/security.md).
 *
 * - `seal`/`open`: AES-256-GCM of one stored value, 12-byte random IV per write, format
 *   IV || ciphertext || tag. Synchronous (@noble/ciphers, audited) because it runs inside
 *   IndexedDB transactions, which commit as soon as the code awaits anything that is not
 *   an IndexedDB request, and WebCrypto is asynchronous only. The bytes are standard
 *   AES-GCM: WebCrypto opens them too (tests/vault.test.js shows it).
 * - key derivation and wrapping run outside transactions, through WebCrypto:
 *   PBKDF2-SHA256 (600,000 iterations) for a PIN, HKDF-SHA256 to combine keys, AES-GCM to
 *   wrap the data key.
 */
import { gcm } from '@noble/ciphers/aes.js';

export const PBKDF2_ITERATIONS = 600_000; // OWASP 2023 minimum for PBKDF2-HMAC-SHA256
const IV_BYTES = 12;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A key or wrap that cannot be opened: wrong PIN, damaged bytes or a different key. */
export class KeyError extends Error {
  constructor(message = 'The key does not fit.') {
    super(message);
    this.name = 'KeyError';
  }
}

export function randomBytes(length) {
  return crypto.getRandomValues(new Uint8Array(length));
}

export const utf8 = (text) => encoder.encode(text);

function joined(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** AES-256-GCM seal of bytes with a fresh random IV (synchronous). */
export function seal(key, plaintext, aad) {
  const iv = randomBytes(IV_BYTES);
  return joined(iv, gcm(key, iv, aad).encrypt(plaintext));
}

/** Open what `seal` made; throws KeyError if the key, the AAD or the bytes are wrong. */
export function open(key, sealed, aad) {
  if (!(sealed instanceof Uint8Array) || sealed.length < IV_BYTES + 16) throw new KeyError('The stored value is damaged.');
  try {
    return gcm(key, sealed.subarray(0, IV_BYTES), aad).decrypt(sealed.subarray(IV_BYTES));
  } catch {
    throw new KeyError();
  }
}

export const sealText = (key, text, aad) => seal(key, encoder.encode(text), aad);
export const openText = (key, sealed, aad) => decoder.decode(open(key, sealed, aad));

/** 256 bits from a PIN or passphrase: PBKDF2-HMAC-SHA256 (WebCrypto). */
export async function pinBits(pin, salt, iterations = PBKDF2_ITERATIONS) {
  const base = await crypto.subtle.importKey('raw', encoder.encode(pin.normalize('NFKC')), 'PBKDF2', false, ['deriveBits']);
  return new Uint8Array(await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations }, base, 256));
}

/** 256 bits of HKDF-SHA256 over the concatenated key material, for one purpose. */
export async function hkdf(parts, salt, info) {
  const base = await crypto.subtle.importKey('raw', joined(...parts), 'HKDF', false, ['deriveBits']);
  return new Uint8Array(await crypto.subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt, info: encoder.encode(info) }, base, 256));
}

async function aesKey(raw, usages) {
  return crypto.subtle.importKey('raw', raw, 'AES-GCM', false, usages);
}

/** Wrap secret bytes under a 256-bit key (or a CryptoKey), bound to `purpose`. */
export async function wrap(kek, secret, purpose) {
  const key = kek instanceof Uint8Array ? await aesKey(kek, ['encrypt']) : kek;
  const iv = randomBytes(IV_BYTES);
  const ct = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: encoder.encode(purpose) }, key, secret);
  return joined(iv, new Uint8Array(ct));
}

/** Unwrap what `wrap` made; KeyError when it does not open. */
export async function unwrap(kek, wrapped, purpose) {
  if (!(wrapped instanceof Uint8Array) || wrapped.length < IV_BYTES + 16) throw new KeyError('The stored key is damaged.');
  const key = kek instanceof Uint8Array ? await aesKey(kek, ['decrypt']) : kek;
  try {
    const plain = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: wrapped.subarray(0, IV_BYTES), additionalData: encoder.encode(purpose) }, key, wrapped.subarray(IV_BYTES));
    return new Uint8Array(plain);
  } catch {
    throw new KeyError();
  }
}

/** A non-extractable AES key kept in IndexedDB: script can use it, not read it out. */
export function newDeviceKey() {
  return crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
}

export function fromBase64url(text) {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/');
  const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

export async function sha256Hex(text) {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(text)));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}
