/**
 * The processing queue's settings (S3 events -> SQS -> the process function), in one place: the
 * stack builds its queue and event source mapping from them (lib/constructs/processing.ts), and
 * local mode builds its queue and mapping from the same numbers. Plain data, no CDK.
 */

export const PROCESSING_QUEUE = {
  /** Records per invocation (the event source mapping's BatchSize). */
  batchSize: 10,
  /** Concurrent invocations at most (the event source mapping's ScalingConfig.MaximumConcurrency). */
  maxConcurrency: 5,
  /**
   * Receives before a message moves to the dead-letter queue (the RedrivePolicy's maxReceiveCount).
   * AWS advises at least 5 for a Lambda consumer: a receive is also spent when the function is
   * throttled or a batch fails as a whole (a timeout, a crash), not only when this record failed.
   */
  maxReceiveCount: 5,
  /**
   * AWS's rule for Lambda consumers: a visibility timeout of at least six times the function
   * timeout, so a message is not redelivered while a (retried) invocation still works on it.
   */
  visibilityTimeoutFactor: 6,
  retentionDays: 4,
  deadLetterRetentionDays: 14,
} as const;

/** The queue's visibility timeout for a processor with this timeout. */
export function processingVisibilityTimeoutSeconds(functionTimeoutSeconds: number): number {
  return functionTimeoutSeconds * PROCESSING_QUEUE.visibilityTimeoutFactor;
}
