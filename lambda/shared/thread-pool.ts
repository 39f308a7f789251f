/**
 * A fixed set of worker threads taking requests in turn (the processor's range threads, local mode's
 * fan-out ranges, `s3files profile`), and `serveRequests`, the worker side. Each request gets an
 * `id`; a worker answers it with a message carrying the same `id`. The threads start on the first
 * request and stay for the next ones. A thread that dies fails the request it held and is
 * replaced. Threads are unref'd: an idle pool does not keep a process alive (a pending request
 * does, through its promise's owner).
 */
import type { MessagePort, Worker } from 'node:worker_threads';

/** A worker's answer to request `id`: its result, or its failure as the worker encodes errors. */
export interface ThreadReply<Result, Failure> {
  id: number;
  result?: Result;
  error?: Failure;
}

/**
 * The body of a pool's worker thread: answers each request on `port` with `handle`'s result, or
 * with its error as `toError` encodes it (errors cross the thread boundary as plain data).
 */
export function serveRequests<Job, Result, Failure>(port: MessagePort, handle: (job: Job) => Promise<Result>, toError: (err: unknown) => Failure): void {
  port.on('message', (request: Job & { id: number }) => {
    void handle(request).then(
      (result) => port.postMessage({ id: request.id, result } satisfies ThreadReply<Result, Failure>),
      (err: unknown) => port.postMessage({ id: request.id, error: toError(err) } satisfies ThreadReply<Result, Failure>),
    );
  });
}

export class ThreadPool<Job extends object, Reply extends { id: number }> {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly queue: { request: Job & { id: number }; resolve: (r: Reply) => void; reject: (e: Error) => void }[] = [];
  private readonly pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void; worker: Worker }>();
  private nextId = 1;

  private started = false;
  private closing = false;
  /** Set when the last thread exited without ever answering: every request fails with it. */
  private broken: Error | undefined;

  /** No thread starts until the first request. */
  constructor(
    readonly size: number,
    private readonly start: () => Worker,
  ) {}

  /**
   * Starts a thread. One that exits (a crash, an out-of-memory kill) fails the request it held and,
   * if it had answered one before, is replaced; one that never answered (a script that cannot
   * start) is not, lest it restart for ever, and with no thread left the queued requests fail.
   */
  private spawn(): void {
    const worker = this.start();
    let answered = false;
    worker.unref();
    worker.on('message', (reply: Reply) => {
      answered = true;
      const waiting = this.pending.get(reply.id);
      if (!waiting) return;
      this.pending.delete(reply.id);
      this.release(worker);
      waiting.resolve(reply);
    });
    worker.on('error', (err) => this.fail(worker, err));
    worker.on('exit', (code) => {
      const err = new Error(`A worker thread exited (code ${code})`);
      this.fail(worker, err);
      this.workers.splice(this.workers.indexOf(worker), 1);
      const idle = this.idle.indexOf(worker);
      if (idle >= 0) this.idle.splice(idle, 1);
      if (this.closing) return;
      if (answered) this.spawn();
      else if (this.workers.length === 0) {
        this.broken = err;
        for (const job of this.queue.splice(0)) job.reject(err);
      }
    });
    this.workers.push(worker);
    this.idle.push(worker);
    this.dispatch();
  }

  private fail(worker: Worker, err: Error): void {
    for (const [id, waiting] of this.pending) {
      if (waiting.worker !== worker) continue;
      this.pending.delete(id);
      waiting.reject(err);
    }
  }

  run(request: Job): Promise<Reply> {
    return new Promise((resolve, reject) => {
      if (this.closing) return reject(new Error('The thread pool is closed'));
      if (this.broken) return reject(this.broken);
      this.queue.push({ request: { ...request, id: this.nextId++ }, resolve, reject });
      if (!this.started) {
        this.started = true;
        for (let i = 0; i < this.size; i++) this.spawn();
      } else this.dispatch();
    });
  }

  private release(worker: Worker): void {
    this.idle.push(worker);
    this.dispatch();
  }

  private dispatch(): void {
    while (this.idle.length && this.queue.length) {
      const worker = this.idle.pop()!;
      const job = this.queue.shift()!;
      this.pending.set(job.request.id, { resolve: job.resolve, reject: job.reject, worker });
      worker.postMessage(job.request);
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all([...this.workers].map((w) => w.terminate()));
  }
}
