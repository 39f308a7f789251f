/** One object: what it is, download, delete (with confirmation), and its text, rows and profile. */
import { useSignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { deleteObject, downloadUrl, headObject, preview, type ObjectMeta, type Preview } from './api';
import { bytes, date, isTabular } from './format';
import { ProfileView } from './profile';
import { RowsView } from './rows';
import { go, href, type ObjectTab } from './router';
import { Crumbs, Problem } from './shared';

const PREVIEW_BYTES = 64 * 1024;

export function ObjectView({ bucket, objectKey: key, tab }: { bucket: string; objectKey: string; tab: ObjectTab }) {
  const meta = useSignal<ObjectMeta | null>(null);
  const error = useSignal<unknown>(null);
  const confirming = useSignal(false);
  const busy = useSignal(false);
  useEffect(() => {
    headObject(bucket, key).then(
      (m) => (meta.value = m),
      (e: unknown) => (error.value = e),
    );
  }, []);

  const parent = key.includes('/') ? key.slice(0, key.lastIndexOf('/') + 1) : '';
  async function download() {
    try {
      const { url } = await downloadUrl(bucket, key);
      // A plain navigation to the presigned URL, which carries the attachment disposition.
      const a = document.createElement('a');
      a.href = url;
      a.download = key.slice(parent.length);
      document.body.append(a);
      a.click();
      a.remove();
    } catch (e) {
      error.value = e;
    }
  }
  async function remove() {
    busy.value = true;
    try {
      await deleteObject(bucket, key);
      go({ view: 'list', bucket, prefix: parent });
    } catch (e) {
      error.value = e;
      busy.value = false;
      confirming.value = false;
    }
  }

  const tabs: ObjectTab[] = ['file', ...(isTabular(key) ? (['rows'] as const) : []), ...(bucket === 'uploads' ? (['profile'] as const) : [])];
  return (
    <section>
      <Crumbs bucket={bucket} path={key} />
      <h1 class="key">{key.slice(parent.length)}</h1>
      {meta.value && (
        <p class="muted" data-testid="meta">
          {bytes(meta.value.size)} · {meta.value.contentType} · {date(meta.value.lastModified)}
        </p>
      )}
      <div class="toolbar">
        <button type="button" onClick={() => void download()}>
          Download
        </button>
        {bucket === 'uploads' && !confirming.value && (
          <button type="button" class="danger" onClick={() => (confirming.value = true)}>
            Delete
          </button>
        )}
      </div>
      {confirming.value && (
        <div class="confirm" role="alertdialog" aria-label="Confirm deletion">
          <p>
            Delete <strong>{key}</strong> and its profile? This cannot be undone.
          </p>
          <button type="button" class="danger" disabled={busy.value} onClick={() => void remove()}>
            Delete for good
          </button>
          <button type="button" onClick={() => (confirming.value = false)}>
            Cancel
          </button>
        </div>
      )}
      {error.value !== null && <Problem error={error.value} />}
      <nav class="tabs" aria-label="Views of this object">
        {tabs.map((t) => (
          <a key={t} href={href({ view: 'object', tab: t, bucket, key })} aria-current={t === tab ? 'page' : undefined}>
            {t === 'file' ? 'Preview' : t === 'rows' ? 'Rows' : 'Profile'}
          </a>
        ))}
      </nav>
      {tab === 'file' && meta.value && <TextPreview bucket={bucket} objectKey={key} size={meta.value.size} />}
      {tab === 'rows' && <RowsView bucket={bucket} objectKey={key} />}
      {tab === 'profile' && <ProfileView objectKey={key} />}
    </section>
  );
}

function TextPreview({ bucket, objectKey: key, size }: { bucket: string; objectKey: string; size: number }) {
  const shown = useSignal<Preview | null>(null);
  const error = useSignal<unknown>(null);
  useEffect(() => {
    preview(bucket, key, size, PREVIEW_BYTES).then(
      (p) => (shown.value = p),
      (e: unknown) => (error.value = e),
    );
  }, []);
  if (error.value !== null) return <Problem error={error.value} />;
  const p = shown.value;
  if (!p) return <p class="muted">Loading…</p>;
  if (p.text === null) return <p class="muted">Not text: download it to open it.</p>;
  return (
    <>
      {/* Rendered as text, never as HTML. */}
      <pre class="preview" data-testid="preview">
        {p.text}
      </pre>
      {p.truncated && <p class="muted">The first {bytes(PREVIEW_BYTES)} of {bytes(size)}.</p>}
    </>
  );
}
