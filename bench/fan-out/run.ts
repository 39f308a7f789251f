/**
 * `npx tsx bench/fan-out/run.ts [MiB]`: the fan-out's per-range throughput, for README's "fan-out on
 * paper". One CSV (numbers, strings, dates) is profiled in the same run (1) in one pass, the
 * baseline, and (2) as the range workers do, range after range on one core from a file source
 * (planRanges, profileRange, mergeRanges), with ranges of a quarter of the file. Prints MB/s of
 * each and the ratio; the merged profile is checked against the single pass's row count.
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HEAD_BYTES, mergeRanges, planRanges, profileObject, profileRange, type ByteRangeSource, type RangePartial } from '../../lambda/core/profile';

async function writeCsv(file: string, bytes: number): Promise<void> {
  const fh = await open(file, 'w');
  let written = 0;
  let i = 0;
  await fh.write('id,name,amount,ratio,city,when,flag\n');
  while (written < bytes) {
    const lines: string[] = [];
    for (let k = 0; k < 10_000; k++, i++) {
      lines.push(`${i},"name ${i % 9973}",${(i * 37) % 100000},${((i * 7919) % 1000) / 7},city-${i % 211},2024-${String((i % 12) + 1).padStart(2, '0')}-${String((i % 28) + 1).padStart(2, '0')},${i % 3 === 0}`);
    }
    const chunk = lines.join('\n') + '\n';
    await fh.write(chunk);
    written += Buffer.byteLength(chunk);
  }
  await fh.close();
}

async function main(): Promise<void> {
  const mib = Number(process.argv[2] ?? 64);
  const dir = await mkdtemp(join(tmpdir(), 'bench-fan-out-'));
  const file = join(dir, 'data.csv');
  try {
    await writeCsv(file, mib * 1024 * 1024);
    const size = (await stat(file)).size;

    // CPU seconds as well as wall seconds: on a shared machine the wall time says more about the
    // neighbours than about the engine, and a Lambda's vCPU is the engine's alone.
    const cpu = (since: NodeJS.CpuUsage) => { const d = process.cpuUsage(since); return (d.user + d.system) / 1e6; };
    let c = process.cpuUsage();
    let t = performance.now();
    const single = await profileObject({ body: createReadStream(file, { highWaterMark: 1 << 20 }), key: 'data.csv', size });
    const onePassS = (performance.now() - t) / 1000;
    const onePassCpu = cpu(c);

    const fh = await open(file, 'r');
    const head = Buffer.alloc(Math.min(size, HEAD_BYTES));
    await fh.read(head, 0, head.length, 0);
    await fh.close();
    const source: ByteRangeSource = { read: (start, end) => createReadStream(file, { start, end: end - 1, highWaterMark: 1 << 20 }) };
    const plan = planRanges({ size, head, key: 'data.csv', rangeBytes: Math.ceil(size / 4) });
    c = process.cpuUsage();
    t = performance.now();
    const partials: RangePartial[] = [];
    const perRange: number[] = [];
    for (const range of plan.ranges) {
      const r0 = process.cpuUsage();
      partials.push(await profileRange(source, plan, range));
      perRange.push((range.end - range.start) / 1e6 / cpu(r0));
    }
    const m0 = process.cpuUsage();
    const merged = mergeRanges(plan, partials, { sha256: null });
    const mergeCpu = cpu(m0);
    const rangesS = (performance.now() - t) / 1000;
    const rangesCpu = cpu(c);
    if (!('profile' in merged) || merged.profile.rows !== single.rows) throw new Error('the merged profile differs from the single pass');

    const mb = size / 1e6;
    console.log(`file: ${mb.toFixed(1)} MB, ${single.rows} rows, ${plan.ranges.length} ranges`);
    console.log(`one pass (baseline): ${onePassS.toFixed(2)} s wall, ${onePassCpu.toFixed(2)} CPU s, ${(mb / onePassCpu).toFixed(1)} MB per CPU s`);
    console.log(`ranges one after another + merge: ${rangesS.toFixed(2)} s wall, ${rangesCpu.toFixed(2)} CPU s, ${(mb / rangesCpu).toFixed(1)} MB per CPU s (${(onePassCpu / rangesCpu).toFixed(2)}x the baseline's)`);
    console.log(`per range: ${perRange.map((x) => x.toFixed(1)).join(', ')} MB per CPU s; merge ${mergeCpu.toFixed(3)} CPU s`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

void main();
