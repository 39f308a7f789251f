/** Small pieces used by several views. */
import { href } from './router';

export function Problem({ error }: { error: unknown }) {
  return (
    <p class="error" role="alert">
      {error instanceof Error ? error.message : String(error)}
    </p>
  );
}

/** `uploads / reports / 2024 /`: each part a link to that folder. */
export function Crumbs({ bucket, path }: { bucket: string; path: string }) {
  const parts = path.split('/').filter(Boolean);
  return (
    <nav class="crumbs" aria-label="Breadcrumbs">
      <a href="#/">Buckets</a>
      <span>/</span>
      <a href={href({ view: 'list', bucket, prefix: '' })}>{bucket}</a>
      {parts.map((part, i) => {
        const isFolder = i < parts.length - 1 || path.endsWith('/');
        return (
          <>
            <span>/</span>
            {isFolder ? <a href={href({ view: 'list', bucket, prefix: parts.slice(0, i + 1).join('/') + '/' })}>{part}</a> : <strong>{part}</strong>}
          </>
        );
      })}
    </nav>
  );
}
