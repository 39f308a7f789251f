/**
 * A chunk as a Buffer without copying it: a Node Readable yields Buffers already, the S3 SDK's web
 * streams and worker messages yield plain Uint8Arrays, which become a Buffer view of the same memory.
 */
export function asBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}
