/**
 * A fixed set of worker threads taking requests in turn (moved from local/profile-threads.ts so the
 * process function can use it too). Each request gets an `id`; a worker answers it with a message
 * carrying the same `id`. A thread that dies fails the requests it held. Threads are unref'd: an
 * idle pool does not keep a process alive (a pending request does, through its promise's owner).
 */
import type { Worker } from 'node:worker_threads';

export class ThreadPool<Job extends object, Reply extends { id: number }> {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly queue: { request: Job & { id: number }; resolve: (r: Reply) => void; reject: (e: Error) => void }[] = [];
  private readonly pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void; worker: Worker }>();
  private nextId = 1;

  constructor(
    readonly size: number,
    start: () => Worker,
  ) {
    for (let i = 0; i < size; i++) {
      const worker = start();
      worker.unref();
      worker.on('message', (reply: Reply) => {
        const waiting = this.pending.get(reply.id);
        if (!waiting) return;
        this.pending.delete(reply.id);
        this.release(worker);
        waiting.resolve(reply);
      });
      worker.on('error', (err) => {
        for (const [id, waiting] of this.pending) {
          if (waiting.worker !== worker) continue;
          this.pending.delete(id);
          waiting.reject(err);
        }
      });
      this.workers.push(worker);
      this.idle.push(worker);
    }
  }

  run(request: Job): Promise<Reply> {
    return new Promise((resolve, reject) => {
      this.queue.push({ request: { ...request, id: this.nextId++ }, resolve, reject });
      this.dispatch();
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
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
