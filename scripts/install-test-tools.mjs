#!/usr/bin/env node
// npm's "pretest": makes sure the Debian packages the tests need are there (chromium,
// python3-websockets, redis-server, tmux) and that a Redis answers on 127.0.0.1:6379.
// Missing packages are installed with apt-get when this runs as root (apt-get update first if
// the install fails); otherwise it stops at once with one line naming them (exit 1).
// Must not: install anything but those packages, or print more than a line when all is there.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';

/** Debian package -> is it there? */
const PACKAGES = {
  chromium: () => existsSync('/usr/bin/chromium'),
  'python3-websockets': () => spawnSync('/usr/bin/python3', ['-c', 'import websockets'], { stdio: 'ignore' }).status === 0,
  'redis-server': () => onPath('redis-server'),
  tmux: () => onPath('tmux'),
};

function onPath(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

function missing() {
  return Object.entries(PACKAGES).filter(([, present]) => !present()).map(([name]) => name);
}

function apt(args) {
  const result = spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  return result.status === 0;
}

function redisAnswers() {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port: 6379 });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(String(data).startsWith('+PONG')));
  });
}

let needed = missing();
if (needed.length > 0) {
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!root || !onPath('apt-get')) {
    console.error(`npm test needs the Debian packages ${needed.join(', ')}: install them (apt-get install ${needed.join(' ')}) or run npm test as root to have them installed`);
    process.exit(1);
  }
  console.log(`installing ${needed.join(', ')} with apt-get for the tests`);
  const install = ['install', '-y', '-qq', '--no-install-recommends', ...needed];
  if (!apt(install)) apt(['update', '-qq']) && apt(install);
  needed = missing();
  if (needed.length > 0) {
    console.error(`npm test needs the Debian packages ${needed.join(', ')}, and apt-get could not install them`);
    process.exit(1);
  }
}

if (!(await redisAnswers())) {
  const started = spawnSync('redis-server', ['--daemonize', 'yes', '--bind', '127.0.0.1', '--port', '6379', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  if (started.status !== 0) {
    console.error('npm test needs a Redis on 127.0.0.1:6379, and redis-server could not start one');
    process.exit(1);
  }
  console.log('started redis-server on 127.0.0.1:6379 for the tests');
}
