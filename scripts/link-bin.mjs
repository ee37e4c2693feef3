#!/usr/bin/env node
// Makes `npx fdx` work inside this checkout, as it does for anyone who installs the package:
// npm links the bins of dependencies into node_modules/.bin, but not the package's own.
import { mkdirSync, rmSync, symlinkSync, chmodSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const root = join(dirname(new URL(import.meta.url).pathname), '..');
const binDir = join(root, 'node_modules', '.bin');
const target = join(root, 'bin', 'fdx.js');
mkdirSync(binDir, { recursive: true });
const link = join(binDir, 'fdx');
rmSync(link, { force: true });
symlinkSync(relative(binDir, target), link);
chmodSync(target, 0o755);
