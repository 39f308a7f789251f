'use strict';
/* global require */
/* eslint-disable @typescript-eslint/no-require-imports */
// A local range worker thread: registers tsx (threads do not inherit the parent's loader) and runs
// the TypeScript worker.
require('tsx/cjs');
require('./range-worker.ts');
