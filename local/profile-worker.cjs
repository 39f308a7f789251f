'use strict';
/* global require */
/* eslint-disable @typescript-eslint/no-require-imports */
// A profile range worker thread: registers tsx (threads do not inherit the parent's loader) and runs
// the TypeScript worker.
require('tsx/cjs');
require('./profile-worker.ts');
