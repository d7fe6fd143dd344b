// Shared by the node tests of shmsnap serve: start the real binaries under a
// unique prefix, wait for their ready lines with a deadline, and clean up so that
// nothing stays in /dev/shm, /dev/mqueue or as a process, even on failure.
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const { readdirSync } = require('node:fs');

const binDir = process.env.SHMSNAP_BIN_DIR;
const patienceMs = 60000;
const prefix = `tn${process.pid}_${Date.now() % 100000}`;
const children = [];

function fail(message) {
  console.error('FAIL: ' + message);
  process.exitCode = 1;
  throw new Error(message);
}

/// Starts `argv` and resolves with { child, line } once a stdout line starts with `ready`.
function start(argv, ready) {
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error(`${argv.join(' ')}: no '${ready}' line`)), patienceMs);
    child.stdout.on('data', (data) => {
      buffered += data.toString();
      for (const line of buffered.split('\n')) {
        if (line.startsWith(ready)) {
          clearTimeout(timer);
          resolve({ child, line });
          return;
        }
      }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`${argv[0]} exited ${code}`)); });
  });
}

async function startServe(extra = []) {
  const { child, line } = await start([`${binDir}/shmsnap`, 'serve', '--listen', '127.0.0.1:0', '--prefix', prefix,
    ...extra], 'serving');
  const http = /http=([^ ]+)/.exec(line)[1];
  const foxglove = /foxglove=([^ ]+)/.exec(line);
  return { child, http, foxglove: foxglove ? foxglove[1] : null };
}

async function startPublisher(topic, schema, rate) {
  const { child } = await start([`${binDir}/shmsnap-publisher`, '--topic', topic, '--schema', schema, '--rate',
    String(rate), '--prefix', prefix], 'ready');
  return child;
}

/// Headless Chromium (playwright-core) as every page test launches it; playwright
/// gives each launch a fresh temporary profile (--user-data-dir).
function launchChromium() {
  const { chromium } = require('playwright-core');
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--no-first-run', '--disable-sync'],
  });
}

function exited(child) {
  return child.exitCode !== null || child.signalCode !== null;
}

/// SIGTERM every child, SIGKILL what does not exit in time, remove what dead
/// publishers left, and fail when anything of the prefix is still there.
/// Removes what processes of the prefix that died (a test's SIGKILL) left behind.
function removeDeadLeftovers() {
  spawnSync(`${binDir}/shmsnap`, ['clean', '--prefix', prefix], { stdio: 'ignore' });
}

async function cleanUp() {
  for (const child of children) if (!exited(child)) child.kill('SIGTERM');
  const deadline = Date.now() + patienceMs;
  while (children.some((child) => !exited(child)) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  for (const child of children) if (!exited(child)) child.kill('SIGKILL');
  // Look before cleaning: a leak is what the processes left, not what clean missed.
  const left = [];
  for (const directory of ['/dev/shm', '/dev/mqueue']) {
    try {
      for (const name of readdirSync(directory)) if (name.startsWith(prefix + ':')) left.push(`${directory}/${name}`);
    } catch { /* not mounted */ }
  }
  removeDeadLeftovers();
  if (left.length) fail('left behind: ' + left.join(' '));
}

module.exports = { binDir, launchChromium, patienceMs, prefix, fail, start, startServe, startPublisher, removeDeadLeftovers, cleanUp };
