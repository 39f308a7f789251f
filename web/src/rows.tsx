/** The parsed rows of a CSV/TSV/JSON Lines object, a page at a time, with the columns the user picks (`?rows=` and `columns=`). */
import { useSignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { rows, type RowsPage } from './api';
import { Problem } from './shared';

const PAGE = 50;

export function RowsView({ bucket, objectKey: key }: { bucket: string; objectKey: string }) {
  const offset = useSignal(0);
  const allColumns = useSignal<string[] | null>(null);
  const picked = useSignal<string[] | null>(null);
  const page = useSignal<RowsPage | null>(null);
  const error = useSignal<unknown>(null);

  useEffect(() => {
    error.value = null;
    rows(bucket, key, offset.value, PAGE, picked.value).then(
      (p) => {
        page.value = p;
        allColumns.value ??= p.columns;
      },
      (e: unknown) => (error.value = e),
    );
  }, [offset.value, picked.value]);

  function toggle(column: string) {
    const all = allColumns.value ?? [];
    const current = picked.value ?? all;
    const next = current.includes(column) ? current.filter((c) => c !== column) : all.filter((c) => c === column || current.includes(c));
    if (next.length === 0) return; // at least one column
    picked.value = next.length === all.length ? null : next;
  }

  const p = page.value;
  const shown = picked.value ?? allColumns.value ?? [];
  return (
    <section>
      {allColumns.value && (
        <fieldset class="columns">
          <legend>Columns</legend>
          {allColumns.value.map((c) => (
            <label key={c}>
              <input type="checkbox" checked={shown.includes(c)} onChange={() => toggle(c)} /> {c}
            </label>
          ))}
        </fieldset>
      )}
      {error.value !== null && <Problem error={error.value} />}
      {p && (
        <>
          <div class="scroll">
            <table class="rows">
              <thead>
                <tr>
                  <th>#</th>
                  {p.columns.map((c) => (
                    <th key={c}>{c}</th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {p.rows.map((row, i) => (
                  <tr key={offset.value + i}>
                    <td class="muted">{(offset.value + i + 1).toLocaleString()}</td>
                    {row.map((v, j) => (
                      <td key={j} class={v === null ? 'null' : undefined}>
                        {v === null ? 'null' : typeof v === 'object' ? JSON.stringify(v) : String(v)}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div class="toolbar">
            <button type="button" disabled={offset.value === 0} onClick={() => (offset.value = Math.max(0, offset.value - PAGE))}>
              Previous
            </button>
            <span class="muted" data-testid="row-range">
              Rows {(offset.value + 1).toLocaleString()}–{(offset.value + p.rows.length).toLocaleString()}
            </span>
            <button type="button" disabled={p.nextOffset === null} onClick={() => p.nextOffset !== null && (offset.value = p.nextOffset)}>
              Next
            </button>
          </div>
        </>
      )}
    </section>
  );
}
