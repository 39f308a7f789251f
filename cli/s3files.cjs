#!/usr/bin/env node
'use strict';
/* global require, process */
/* eslint-disable @typescript-eslint/no-require-imports */
// The `s3files` command: registers tsx so the TypeScript sources run as they are (no build step).
require('tsx/cjs');
const { main } = require('./main.ts');

main(process.argv.slice(2), { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() }).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`s3files: ${err && err.stack ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  },
);
