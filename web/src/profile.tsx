/**
 * The profile of an upload as a page: the file's summary, errors with line numbers, and per column
 * its statistics, a histogram (one SVG bar per bin) and its top values as bars. "Processing…"
 * until the processor has written it; it then appears without a reload.
 */
import { useSignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import type { ColumnProfile, Histogram, Profile, TopValue } from '../../lambda/core/profile/types';
import { profileOf } from './api';
import { bytes, num } from './format';
import { Problem } from './shared';

const POLL_MS = 2000;

export function ProfileView({ objectKey: key }: { objectKey: string }) {
  const profile = useSignal<Profile | null>(null);
  const error = useSignal<unknown>(null);
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let live = true;
    const poll = () =>
      profileOf(key).then(
        (p) => {
          if (!live) return;
          if (p) profile.value = p as Profile;
          else timer = setTimeout(poll, POLL_MS);
        },
        (e: unknown) => live && (error.value = e),
      );
    void poll();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, []);

  if (error.value !== null) return <Problem error={error.value} />;
  const p = profile.value;
  if (!p) {
    return (
      <p class="processing" role="status">
        Processing… the profile appears here when it is ready.
      </p>
    );
  }
  return (
    <section class="profile" data-testid="profile">
      <dl class="summary">
        <dt>Format</dt>
        <dd>{p.format + (p.compression ? ` (${p.compression})` : '')}</dd>
        {p.rows != null && (
          <>
            <dt>Rows</dt>
            <dd>{num(p.rows)}</dd>
          </>
        )}
        {p.columnCount != null && (
          <>
            <dt>Columns</dt>
            <dd>{num(p.columnCount)}</dd>
          </>
        )}
        <dt>Size</dt>
        <dd>{bytes(p.bytes)}</dd>
        {p.sha256 && (
          <>
            <dt>SHA-256</dt>
            <dd class="mono">{p.sha256}</dd>
          </>
        )}
      </dl>
      {p.errors && p.errors.samples.length > 0 && (
        <div class="errors">
          <h2>Problems</h2>
          <p>
            {num(p.errors.raggedRows)} ragged rows, {num(p.errors.invalidUtf8)} invalid UTF-8, {num(p.errors.oversizedFields)} oversized fields
          </p>
          <ul>
            {p.errors.samples.map((s, i) => (
              <li key={i}>
                Line {s.line}: {s.message}
              </li>
            ))}
          </ul>
        </div>
      )}
      <div class="cards">
        {p.columns?.map((c) => (
          <ColumnCard key={c.name} column={c} />
        ))}
      </div>
    </section>
  );
}

function ColumnCard({ column: c }: { column: ColumnProfile }) {
  const stats: [string, string][] = [
    ['Values', num(c.count)],
    ['Nulls', num(c.nulls)],
    ['Distinct', `${c.distinct.exact ? '' : '≈ '}${num(c.distinct.value)}`],
    ['Min', num(c.min)],
    ['Max', num(c.max)],
  ];
  if (c.mean !== null) stats.push(['Mean', num(c.mean)]);
  if (c.stddev !== null) stats.push(['Std dev', num(c.stddev)]);
  return (
    <article class="card column" data-column={c.name}>
      <h3>
        {c.name} <span class="type">{c.type}</span>
      </h3>
      <dl class="stats">
        {stats.map(([k, v]) => (
          <>
            <dt>{k}</dt>
            <dd>{v}</dd>
          </>
        ))}
      </dl>
      {c.histogram && <HistogramChart histogram={c.histogram} />}
      {c.top.length > 0 && <TopValues top={c.top} approximate={c.topMethod !== 'exact'} />}
    </article>
  );
}

const W = 320;
const H = 96;

export function HistogramChart({ histogram: h }: { histogram: Histogram }) {
  const peak = Math.max(1, ...h.bins);
  const bw = W / Math.max(1, h.bins.length);
  return (
    <figure class="chart">
      <svg class="histogram" viewBox={`0 0 ${W} ${H + 14}`} role="img" aria-label={`Histogram, ${h.bins.length} bins`}>
        {h.bins.map((count, k) => {
          const height = (count / peak) * H;
          const from = h.min + k * h.width;
          return (
            <rect class="bin" key={k} x={k * bw + 0.5} y={H - height} width={Math.max(1, bw - 1)} height={height}>
              <title>{`${num(from)} to ${num(from + h.width)}: ${num(count)}`}</title>
            </rect>
          );
        })}
        <text x="0" y={H + 12}>
          {num(h.min)}
        </text>
        <text x={W} y={H + 12} text-anchor="end">
          {num(h.min + h.bins.length * h.width)}
        </text>
      </svg>
    </figure>
  );
}

function TopValues({ top, approximate }: { top: TopValue[]; approximate: boolean }) {
  const peak = Math.max(1, ...top.map((t) => t.count));
  const rowH = 18;
  return (
    <figure class="chart">
      <figcaption>Top values{approximate ? ' (approximate counts)' : ''}</figcaption>
      <svg class="top" viewBox={`0 0 ${W} ${top.length * rowH}`} role="img" aria-label="Top values">
        {top.map((t, i) => (
          <g key={i} transform={`translate(0 ${i * rowH})`}>
            <rect class="bar" x="120" y="2" width={Math.max(1, (t.count / peak) * (W - 170))} height={rowH - 4} />
            <text class="label" x="116" y={rowH - 5} text-anchor="end">
              {t.value.length > 18 ? `${t.value.slice(0, 17)}…` : t.value}
            </text>
            <text x={124 + (t.count / peak) * (W - 170)} y={rowH - 5}>
              {num(t.count)}
            </text>
          </g>
        ))}
      </svg>
    </figure>
  );
}
