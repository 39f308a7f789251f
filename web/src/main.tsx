/** The console's entry: read config.json, finish a sign-in coming back, keep the session fresh, render. */
import { render } from 'preact';
import { App } from './app';
import { completeSignIn, keepFresh, signInProblem } from './auth';
import { useApi } from './api';
import { loadConfig } from './config';
import './styles.css';

async function start(): Promise<void> {
  const root = document.getElementById('app')!;
  try {
    const config = await loadConfig();
    useApi(config);
    await completeSignIn(config).catch((err: unknown) => {
      signInProblem.value = `Sign-in failed: ${String(err)}`;
    });
    keepFresh(config);
    root.textContent = ''; // the "Loading…" placeholder
    render(<App config={config} />, root);
  } catch (err) {
    root.textContent = `The console cannot start: ${String(err)}`;
  }
}

void start();
