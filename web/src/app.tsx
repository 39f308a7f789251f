/** The frame: sign-in screen or header + the current view. */
import { beginSignIn, session, signInProblem, signOut, userName } from './auth';
import type { ConsoleConfig } from './config';
import { Browse, Buckets } from './browse';
import { ObjectView } from './object';
import { route } from './router';

export function App({ config }: { config: ConsoleConfig }) {
  const current = session.value;
  if (!current) {
    return (
      <main class="signin">
        <section class="card">
          <h1>S3 File Service</h1>
          {signInProblem.value && (
            <p class="error" role="alert">
              {signInProblem.value}
            </p>
          )}
          <button type="button" onClick={() => void beginSignIn(config)}>
            Sign in
          </button>
        </section>
      </main>
    );
  }
  const r = route.value;
  return (
    <>
      <header class="masthead">
        <a href="#/" class="brand">
          S3 File Service
        </a>
        <span class="user" data-testid="user">
          {userName(current.idToken)}
        </span>
        <button type="button" class="link" onClick={() => void signOut(config)}>
          Sign out
        </button>
      </header>
      <main>
        {r.view === 'buckets' && <Buckets />}
        {r.view === 'list' && <Browse key={`${r.bucket}/${r.prefix}`} bucket={r.bucket} prefix={r.prefix} />}
        {r.view === 'object' && <ObjectView key={`${r.bucket}/${r.key}`} bucket={r.bucket} objectKey={r.key} tab={r.tab} />}
      </main>
    </>
  );
}
