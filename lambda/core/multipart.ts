import { GiB, MiB } from '../shared/config';

/** S3 multipart limits: every part but the last at least 5 MiB, at most 5 GiB, at most 10,000 parts. */
export const S3_MIN_PART_BYTES = 5 * MiB;
export const MAX_PART_BYTES = 5 * GiB;
export const MAX_PARTS = 10_000;
/** Our floor for the parts we plan: 8 MiB parts keep the request count (and signing calls) low. */
export const MIN_PART_BYTES = 8 * MiB;

export interface PartPlan {
  partSize: number;
  partCount: number;
}

/**
 * The part size for a declared object size: the smallest whole number of MiB, at least 8 MiB,
 * that fits the object in at most 10,000 parts. Every part but the last has exactly this size.
 */
export function planParts(size: number): PartPlan {
  if (!Number.isSafeInteger(size) || size <= 0) throw new RangeError(`size must be a positive integer, got ${size}`);
  const partSize = Math.max(MIN_PART_BYTES, Math.ceil(size / MAX_PARTS / MiB) * MiB);
  if (partSize > MAX_PART_BYTES) throw new RangeError(`size ${size} needs parts over ${MAX_PART_BYTES} bytes`);
  return { partSize, partCount: Math.ceil(size / partSize) };
}
