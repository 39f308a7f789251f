/**
 * Where the console is, in the address bar's hash (`#/b/uploads/reports/`, `#/rows/uploads/a.csv`),
 * so the API's paths and the console's never meet and reload or back keep the place. Every key
 * segment is percent-encoded.
 */
import { signal } from '@preact/signals';

export type ObjectTab = 'file' | 'rows' | 'profile';
export type Route =
  | { view: 'buckets' }
  | { view: 'list'; bucket: string; prefix: string }
  | { view: 'object'; tab: ObjectTab; bucket: string; key: string };

const TABS: readonly string[] = ['file', 'rows', 'profile'];
const encodeKey = (key: string) => key.split('/').map(encodeURIComponent).join('/');

export function href(route: Route): string {
  switch (route.view) {
    case 'buckets':
      return '#/';
    case 'list':
      return `#/b/${encodeURIComponent(route.bucket)}/${encodeKey(route.prefix)}`;
    case 'object':
      return `#/${route.tab}/${encodeURIComponent(route.bucket)}/${encodeKey(route.key)}`;
  }
}

export function parse(hash: string): Route {
  const [kind, bucket, ...rest] = hash.replace(/^#\/?/, '').split('/');
  try {
    const key = rest.map(decodeURIComponent).join('/');
    if (kind === 'b' && bucket) return { view: 'list', bucket: decodeURIComponent(bucket), prefix: key };
    if (kind && TABS.includes(kind) && bucket && key) return { view: 'object', tab: kind as ObjectTab, bucket: decodeURIComponent(bucket), key };
  } catch {
    // a malformed escape: back to the start
  }
  return { view: 'buckets' };
}

export const route = signal<Route>(parse(location.hash));
addEventListener('hashchange', () => {
  route.value = parse(location.hash);
});

export function go(to: Route): void {
  location.hash = href(to);
}
