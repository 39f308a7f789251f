/**
 * A one-line progress bar with rate and ETA, redrawn in place on a TTY. Formatting is a plain
 * function of the numbers, so it is tested without a terminal.
 */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`;
}

export function renderProgress(done: number, total: number, elapsedSeconds: number, width = 24): string {
  const fraction = total > 0 ? Math.min(1, done / total) : 1;
  const filled = Math.round(fraction * width);
  const rate = elapsedSeconds > 0 ? done / elapsedSeconds : 0;
  const eta = rate > 0 ? (total - done) / rate : Number.NaN;
  const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
  return `[${bar}] ${(fraction * 100).toFixed(0).padStart(3)}% ${formatBytes(done)}/${formatBytes(total)} ${formatBytes(rate)}/s ETA ${formatDuration(eta)}`;
}

export interface ProgressBar {
  update(done: number, total: number): void;
  finish(): void;
}

export function createProgressBar(stream: NodeJS.WriteStream, label: string, now: () => number = Date.now): ProgressBar {
  const start = now();
  let lastDraw = 0;
  let last = { done: 0, total: 0 };
  const draw = () => stream.write(`\r${label} ${renderProgress(last.done, last.total, (now() - start) / 1000)}\x1b[K`);
  return {
    update(done, total) {
      last = { done, total };
      const t = now();
      if (t - lastDraw >= 100 || done >= total) {
        lastDraw = t;
        draw();
      }
    },
    finish() {
      draw();
      stream.write('\n');
    },
  };
}

export const silentProgress: ProgressBar = { update: () => undefined, finish: () => undefined };
