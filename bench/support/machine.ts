/**
 * The machine a benchmark ran on, as its RESULTS.md states it, in one place so every benchmark
 * reports the same facts the same way.
 */
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

export function cpuModel(): string {
  // /proc/cpuinfo first: os.cpus() reports an empty or generic model on some virtual and ARM machines.
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.*)$/m)?.[1]?.trim();
    if (line) return line;
  } catch {
    // not Linux: fall back to what Node reports
  }
  return cpus()[0]?.model || 'unknown CPU';
}

/** `2 CPUs (nproc), <model>, 24 GiB, Node v20.x, linux/x64`. */
export function machineDescription(): string {
  return `${cpus().length} CPUs (nproc), ${cpuModel()}, ${Math.round(totalmem() / 1024 ** 3)} GiB, Node ${process.version}, ${process.platform}/${process.arch}`;
}

/** Today's date as YYYY-MM-DD, for "run on". */
export const today = (): string => new Date().toISOString().slice(0, 10);
