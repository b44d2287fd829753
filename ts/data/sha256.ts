// SHA-256 of a byte array as lowercase hex: node:crypto in Node, crypto.subtle elsewhere
// (in browsers crypto.subtle exists only in secure contexts: https or localhost).

import { runtime } from '../runtime.js';

export async function sha256(bytes: Uint8Array): Promise<string> {
  if (runtime === 'node') {
    const { createHash } = await import('node:crypto');
    return createHash('sha256').update(bytes).digest('hex');
  }
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}
