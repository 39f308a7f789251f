import { listPage, prefixEnd, type IndexedKey } from '../../../local/s3/listing';

const index = (keys: string[]): IndexedKey[] =>
  keys.map((key) => ({ key, bytes: Buffer.from(key, 'utf8') })).sort((a, b) => Buffer.compare(a.bytes, b.bytes));

/** Every entry of a listing, the slow and obvious way: filter, sort by bytes, group by delimiter. */
function reference(keys: string[], prefix: string, delimiter: string): string[] {
  const out: string[] = [];
  for (const { key } of index(keys)) {
    if (!key.startsWith(prefix)) continue;
    const cut = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
    const entry = cut >= 0 ? key.slice(0, cut + delimiter.length) : key;
    if (out[out.length - 1] !== entry) out.push(entry);
  }
  return out;
}

/** Pages through listPage as a client does with continuation tokens. */
function pageThrough(keys: IndexedKey[], prefix: string, delimiter: string, maxKeys: number): string[] {
  const seen: string[] = [];
  let after: string | undefined;
  for (let pages = 0; pages < 100_000; pages++) {
    const page = listPage(keys, { prefix, delimiter, maxKeys, ...(after !== undefined ? { after } : {}) });
    seen.push(...page.entries.map((e) => (e.kind === 'key' ? e.key : e.prefix)));
    if (!page.truncated) return seen;
    after = page.last;
  }
  throw new Error('listing did not end');
}

// Keys that collide in directory order: `g007` < `g007-x.csv` < `g007.csv` < `g007/a.csv` in bytes.
const COLLIDING = Array.from({ length: 300 }, (_, i) => {
  const n = `g${String(i % 75).padStart(3, '0')}`;
  return [n, `${n}.csv`, `${n}-x.csv`, `${n}/a.csv`][Math.floor(i / 75)]!;
});

describe('listPage', () => {
  it.each([1, 7, 100, 1000])('returns every colliding key exactly once in byte order with maxKeys %i', (maxKeys) => {
    expect(pageThrough(index(COLLIDING), '', '', maxKeys)).toEqual(reference(COLLIDING, '', ''));
  });

  it.each([1, 7, 100])('returns each common prefix once with a delimiter and maxKeys %i', (maxKeys) => {
    const keys = [...COLLIDING, 'g001/b/c.csv', 'g001/b/d.csv', 'h/', 'h/x'];
    expect(pageThrough(index(keys), '', '/', maxKeys)).toEqual(reference(keys, '', '/'));
  });

  it.each([1, 3, 7])('pages a prefix that is not a folder with maxKeys %i', (maxKeys) => {
    expect(pageThrough(index(COLLIDING), 'g00', '/', maxKeys)).toEqual(reference(COLLIDING, 'g00', '/'));
  });

  it('orders by UTF-8 bytes, not UTF-16 code units', () => {
    const keys = ['\u{1F600}', '\uFF21', 'a', 'é'];
    expect(pageThrough(index(keys), '', '', 2)).toEqual(['a', 'é', '\uFF21', '\u{1F600}']);
  });

  it('lists a key that ends with the delimiter as a key under its own prefix', () => {
    const keys = ['x/', 'x/a', 'x/b/c'];
    expect(pageThrough(index(keys), 'x/', '/', 1)).toEqual(['x/', 'x/a', 'x/b/']);
  });

  it('starts after start-after even when it is not a key', () => {
    const page = listPage(index(['a', 'b', 'c']), { prefix: '', delimiter: '', maxKeys: 10, after: 'aa' });
    expect(page.entries.map((e) => (e.kind === 'key' ? e.key : e.prefix))).toEqual(['b', 'c']);
  });

  it('matches the reference on random keys, prefixes, delimiters and page sizes', () => {
    let seed = 42;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const alphabet = ['a', 'b', '/', '-', '.', 'é', '~'];
    const word = (max: number) => Array.from({ length: 1 + random(max) }, () => alphabet[random(alphabet.length)]!).join('');
    for (let round = 0; round < 200; round++) {
      const keys = [...new Set(Array.from({ length: 1 + random(40) }, () => word(6)))];
      const prefix = random(3) === 0 ? '' : word(2);
      const delimiter = ['', '/', '-'][random(3)]!;
      const maxKeys = 1 + random(5);
      expect([round, pageThrough(index(keys), prefix, delimiter, maxKeys)]).toEqual([round, reference(keys, prefix, delimiter)]);
    }
  });
});

describe('prefixEnd', () => {
  it('is the smallest byte string after every string with the prefix', () => {
    expect(prefixEnd(Buffer.from('ab'))).toEqual(Buffer.from('ac'));
    expect(prefixEnd(Buffer.from([0x61, 0xff]))).toEqual(Buffer.from('b'));
    expect(prefixEnd(Buffer.from([0xff]))).toBeUndefined();
  });
});
