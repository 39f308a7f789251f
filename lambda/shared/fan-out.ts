/**
 * The fan-out's settings, in one place: the stack builds its state machine from them
 * (lib/constructs/fan-out.ts), the runtime plans ranges with them (lambda/core/fan-out.ts), and
 * local mode runs the same plan. Plain data, no CDK.
 */
import { MiB } from './config';

export const FAN_OUT = {
  /**
   * The smallest range: at the range worker's one vCPU (about 100 MB/s) half a minute of work, so
   * the per-range costs (a child execution, an invocation, a GET) stay small beside it.
   */
  minRangeBytes: 512 * MiB,
  /**
   * The most ranges one object is cut into: 5 TiB (S3's largest object) in 1,000 ranges is 5.2 GiB
   * each, about a minute at 100 MB/s. The plan's output (every range's offsets) stays under 64 KB
   * of state, far from Step Functions' 256 KB.
   */
  maxRanges: 1000,
  /** Range workers running at once for one object (the Distributed Map's MaxConcurrency). */
  maxConcurrency: 50,
  /** Days a partial profile left behind by a failed run is kept (lifecycle rule on `fan-out/`). */
  partsRetentionDays: 2,
} as const;

/** How big each range is for an object of `size` bytes: at least minRangeBytes, at most maxRanges ranges. */
export function rangeBytesFor(size: number, minRangeBytes: number = FAN_OUT.minRangeBytes, maxRanges: number = FAN_OUT.maxRanges): number {
  return Math.max(minRangeBytes, Math.ceil(size / maxRanges));
}
