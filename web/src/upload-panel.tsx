/** The upload area of a folder: drop files or folders, or pick them; then each file's progress. */
import type { ComponentChildren } from 'preact';
import { bytes } from './format';
import { cancel, enqueue, filesOfDrop, retry, secondsLeft, uploads, type UploadItem } from './upload';

/** Makes its children a drop target for files and folders, which go under `prefix`. */
export function DropArea({ prefix, children }: { prefix: string; children: ComponentChildren }) {
  return (
    <div
      onDragOver={(e) => {
        if (e.dataTransfer?.types.includes('Files')) e.preventDefault();
      }}
      onDrop={(e) => {
        if (!e.dataTransfer) return;
        e.preventDefault();
        void filesOfDrop(e.dataTransfer).then((files) => enqueue(prefix, files));
      }}
    >
      {children}
    </div>
  );
}

export function UploadPicker({ prefix }: { prefix: string }) {
  const picked = (input: HTMLInputElement, folder: boolean) => {
    // A folder pick names each file by its path inside the folder, as a drop does.
    const files = Array.from(input.files ?? [], (file) => ({ file, path: folder && file.webkitRelativePath ? file.webkitRelativePath : file.name }));
    input.value = '';
    enqueue(prefix, files);
  };
  return (
    <div class="dropzone" data-testid="dropzone">
      <span>Drop files or folders here, or</span>
      <label class="button">
        choose files
        <input type="file" multiple aria-label="Choose files" onChange={(e) => picked(e.currentTarget, false)} />
      </label>
      <label class="button">
        choose a folder
        <input type="file" {...{ webkitdirectory: true }} aria-label="Choose a folder" onChange={(e) => picked(e.currentTarget, true)} />
      </label>
    </div>
  );
}

function duration(seconds: number): string {
  if (seconds < 60) return `${Math.ceil(seconds)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.ceil(seconds % 60)} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.ceil((seconds % 3600) / 60)} min`;
}

function Row({ item }: { item: UploadItem }) {
  const size = item.file.size;
  const left = secondsLeft(item);
  return (
    <li class="upload" data-state={item.state} data-key={item.key}>
      <span class="name">{item.key}</span>
      <progress max={size || 1} value={size ? item.bytesDone : item.state === 'done' ? 1 : 0} />
      <span class="muted">
        {item.state === 'uploading' &&
          `${bytes(item.bytesDone)} of ${bytes(size)}${item.speed ? ` · ${bytes(item.speed)}/s` : ''}${left !== null ? ` · ${duration(left)} left` : ''}`}
        {item.state === 'queued' && 'Waiting'}
        {item.state === 'done' && `Done${item.resumed ? ' (resumed)' : ''} · ${bytes(size)}`}
        {item.state === 'failed' && 'Failed'}
        {item.state === 'cancelled' && 'Cancelled'}
      </span>
      {(item.state === 'uploading' || item.state === 'queued') && (
        <button type="button" class="link" onClick={() => cancel(item)}>
          Cancel
        </button>
      )}
      {item.state === 'failed' && (
        <button type="button" class="link" onClick={() => retry(item)}>
          Retry
        </button>
      )}
      {item.note && <span class={item.state === 'failed' ? 'note error' : 'note muted'}>{item.note}</span>}
    </li>
  );
}

/** Every upload of this page (they go on while you browse). */
export function UploadList() {
  const items = uploads.value;
  if (items.length === 0) return null;
  return (
    <ul class="uploads" aria-label="Uploads">
      {items.map((item) => (
        <Row key={item.id} item={item} />
      ))}
    </ul>
  );
}
