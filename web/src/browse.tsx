/** Buckets, and one folder of a bucket: folders first, then objects, a page at a time by cursor. */
import { useSignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { listBuckets, listObjects, type ObjectInfo } from './api';
import { bytes, date, kindOf } from './format';
import { href } from './router';
import { Crumbs, Problem } from './shared';
import { onUploaded } from './upload';
import { DropArea, UploadList, UploadPicker } from './upload-panel';

/** The upload API writes to the uploads bucket only (the results bucket is the processor's). */
const UPLOADS_BUCKET = 'uploads';

/** Half the API's largest page: a first screen quickly, 20 requests to 10,000 objects. */
const PAGE = 500;

export function Buckets() {
  const buckets = useSignal<{ name: string; writable: boolean }[] | null>(null);
  const error = useSignal<unknown>(null);
  useEffect(() => {
    listBuckets().then(
      (b) => (buckets.value = b.buckets),
      (e: unknown) => (error.value = e),
    );
  }, []);
  return (
    <section>
      <h1>Buckets</h1>
      {error.value !== null && <Problem error={error.value} />}
      <ul class="buckets">
        {buckets.value?.map((b) => (
          <li key={b.name}>
            <a href={href({ view: 'list', bucket: b.name, prefix: '' })}>{b.name}</a>
            <span class="muted">{b.writable ? 'your uploads' : 'profiles (read-only)'}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}

export function Browse({ bucket, prefix }: { bucket: string; prefix: string }) {
  const filter = useSignal('');
  const folders = useSignal<string[]>([]);
  const objects = useSignal<ObjectInfo[]>([]);
  const cursor = useSignal<string | null>(null);
  const loading = useSignal(false);
  const error = useSignal<unknown>(null);
  const generation = useSignal(0);

  async function load(reset: boolean) {
    const mine = reset ? ++generation.value : generation.value;
    loading.value = true;
    error.value = null;
    try {
      const page = await listObjects(bucket, prefix + filter.value, reset ? null : cursor.value, PAGE);
      if (mine !== generation.value) return; // a newer filter won
      folders.value = reset ? page.prefixes : [...folders.value, ...page.prefixes];
      objects.value = reset ? page.objects : [...objects.value, ...page.objects];
      cursor.value = page.nextCursor;
    } catch (e) {
      if (mine === generation.value) error.value = e;
    } finally {
      if (mine === generation.value) loading.value = false;
    }
  }

  useEffect(() => {
    const t = setTimeout(() => void load(true), filter.value ? 250 : 0);
    return () => clearTimeout(t);
  }, [filter.value]);

  // A finished upload into this folder (or below it) shows up without a reload.
  useEffect(() => onUploaded((item) => item.key.startsWith(prefix) && void load(true)), [prefix]);

  const count = folders.value.length + objects.value.length;
  const writable = bucket === UPLOADS_BUCKET;
  const body = (
    <section>
      <Crumbs bucket={bucket} path={prefix} />
      {writable && <UploadPicker prefix={prefix} />}
      {writable && <UploadList />}
      <div class="toolbar">
        <input type="search" placeholder="Filter by name prefix" aria-label="Filter by name prefix" value={filter.value} onInput={(e) => (filter.value = e.currentTarget.value)} />
        <span class="muted" data-testid="count">
          {count.toLocaleString()} {count === 1 ? 'item' : 'items'}
          {cursor.value ? ' so far' : ''}
        </span>
      </div>
      {error.value !== null && <Problem error={error.value} />}
      <div class="listing" role="table" aria-label="Objects">
        <div class="row head" role="row">
          <span role="columnheader">Name</span>
          <span role="columnheader">Size</span>
          <span role="columnheader">Modified</span>
          <span role="columnheader">Type</span>
        </div>
        {folders.value.map((p) => (
          <div class="row folder" role="row" key={p}>
            <span role="cell">
              <a href={href({ view: 'list', bucket, prefix: p })}>{p.slice(prefix.length)}</a>
            </span>
            <span role="cell" />
            <span role="cell" />
            <span role="cell">Folder</span>
          </div>
        ))}
        {objects.value.map((o) => (
          <div class="row" role="row" key={o.key}>
            <span role="cell">
              <a href={href({ view: 'object', tab: 'file', bucket, key: o.key })}>{o.key.slice(prefix.length)}</a>
            </span>
            <span role="cell">{bytes(o.size)}</span>
            <span role="cell">{date(o.lastModified)}</span>
            <span role="cell">{kindOf(o.key)}</span>
          </div>
        ))}
      </div>
      {!loading.value && count === 0 && error.value === null && <p class="muted">Nothing here{filter.value ? ' with that prefix' : ''}.</p>}
      {cursor.value && (
        <button type="button" disabled={loading.value} onClick={() => void load(false)}>
          {loading.value ? 'Loading…' : 'Load more'}
        </button>
      )}
      {loading.value && !cursor.value && <p class="muted">Loading…</p>}
    </section>
  );
  return writable ? <DropArea prefix={prefix}>{body}</DropArea> : body;
}
