/**
 * Questions on the terminal (stderr), answers from stdin: hidden (no echo) for passwords when stdin
 * is a terminal; one line each when it is a pipe, so a script or a test can answer in order.
 */
import { createInterface, type Interface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';

export interface Prompter {
  ask(question: string, options?: { hidden?: boolean }): Promise<string>;
  close(): void;
}

export class NoInputError extends Error {
  constructor(question: string) {
    super(`No answer to "${question.trim()}": standard input ended`);
    this.name = 'NoInputError';
  }
}

export function createPrompter(stdin: Readable & { isTTY?: boolean }, stderr: Writable): Prompter {
  const tty = stdin.isTTY === true;
  let rl: Interface | undefined;
  let lines: AsyncIterator<string> | undefined;
  let muted = false;
  return {
    async ask(question, options = {}) {
      if (!rl) {
        rl = createInterface({ input: stdin, ...(tty ? { output: stderr, terminal: true } : { terminal: false }) });
        if (tty) {
          // readline echoes what is typed through _writeToOutput: silenced while a password is typed.
          const internal = rl as unknown as { _writeToOutput(text: string): void };
          internal._writeToOutput = (text: string) => {
            if (!muted) stderr.write(text);
          };
        }
        lines = rl[Symbol.asyncIterator]();
      }
      stderr.write(question);
      muted = tty && options.hidden === true;
      const line = await lines!.next();
      if (muted) stderr.write('\n');
      muted = false;
      if (line.done) throw new NoInputError(question);
      return line.value;
    },
    close() {
      rl?.close();
    },
  };
}
