// A file's SHA-256 as the server names blobs: 64 lowercase hex digits (crypto.subtle).

/** The hex SHA-256 of bytes (an ArrayBuffer or typed array) or of a Blob. */
export async function sha256Hex(data) {
  const bytes = data instanceof Blob ? await data.arrayBuffer() : data
  const digest = await crypto.subtle.digest('SHA-256', bytes)
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, '0')).join('')
}
