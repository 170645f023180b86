/** @module auth/admin-token: the operator's bearer token (the ADMIN_TOKEN secret), compared in constant time. */

/** True when `presented` equals `expected`, compared without leaking where they differ. */
export async function isAdminToken(presented: string, expected: string): Promise<boolean> {
  const encoder = new TextEncoder();
  // Hashing first gives both sides the same length, which timingSafeEqual needs.
  const [a, b] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(presented)),
    crypto.subtle.digest("SHA-256", encoder.encode(expected)),
  ]);
  return crypto.subtle.timingSafeEqual(a, b);
}
