#!/usr/bin/env node
// Launcher for the `fdx` command. A published package runs the built dist/cli.js; a checkout
// without a build runs the TypeScript source through tsx (a devDependency).
import { existsSync } from 'node:fs';

const built = new URL('../dist/cli.js', import.meta.url);
let cli;
if (existsSync(built)) {
  cli = await import(built.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import(new URL('../src/cli/main.ts', import.meta.url).href);
}
process.exitCode = await cli.main(process.argv.slice(2));
