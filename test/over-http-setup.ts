// Integration and trust tests move megabytes over HTTP between real servers: on a loaded 2-core
// machine one can take longer than jest's default 5 s without anything being wrong. A file that
// needs more still says so with jest.setTimeout. (testTimeout is a global option, not a project's.)
jest.setTimeout(60_000);
