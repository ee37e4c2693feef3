#!/usr/bin/env node
// Launcher for the `fdx` command. In a checkout (src/ present, tsx installed) it runs the
// TypeScript source, so it never runs a stale build; an installed package runs dist/cli.js.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/main.ts', import.meta.url);
const built = new URL('../dist/cli.js', import.meta.url);
let cli;
let tsx = null;
if (existsSync(source)) {
  tsx = await import('tsx/esm/api').catch(() => null);
}
if (tsx) {
  tsx.register();
  cli = await import(source.href);
} else {
  cli = await import(built.href);
}
process.exitCode = await cli.main(process.argv.slice(2));
