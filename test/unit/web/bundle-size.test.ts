import { gzipSync } from 'node:zlib';
import { buildConsole } from '../../../web/build';

/**
 * The console's budget: its JavaScript and CSS together at most 48 KiB gzipped (README, "The web
 * console"), built exactly as `npm run build:web` builds it. Preact + signals are about 8 KiB of that.
 */
const BUDGET_GZIP_BYTES = 48 * 1024;

describe('the web console bundle', () => {
  it(`stays within ${BUDGET_GZIP_BYTES / 1024} KiB of gzipped JS + CSS`, async () => {
    const assets = await buildConsole();
    const js = assets.get('/console.js')!.body;
    const css = assets.get('/console.css')!.body;

    const total = gzipSync(js, { level: 9 }).length + gzipSync(css, { level: 9 }).length;

    expect(js.length).toBeGreaterThan(10_000); // the real bundle, with Preact in it
    expect(total).toBeLessThanOrEqual(BUDGET_GZIP_BYTES);
  });

  it('has no inline script in its page, which the CSP would refuse', async () => {
    const html = (await buildConsole()).get('/index.html')!.body.toString('utf8');

    expect(html).toMatch(/<script type="module" src="\/console.js"><\/script>/);
    expect(html.match(/<script\b[^>]*>[^<]+<\/script>/g)).toBeNull();
    expect(html).not.toMatch(/\son[a-z]+=/i);
  });
});
