// Cost of `shmsnap serve`: 10 topics published at 1 kHz, measured first with no
// client, then with 3 dashboard pages in headless Chromium (each following one
// topic's value), from /proc/<pid>/stat (CPU) and /proc/<pid>/status (memory).
// Not a test: run by hand, see the README section "Observability: shmsnap serve".
//   SHMSNAP_BIN_DIR=build/release/bin NODE_PATH=build/node/web/node_modules node tests/node/web/measure_cost.cjs [SECONDS]
'use strict';
const { chromium } = require('playwright-core');
const { readFileSync } = require('node:fs');
const { cleanUp, startPublisher, startServe } = require('./support.cjs');

const seconds = Number(process.argv[2] || 20);
const ticks = 100;  // USER_HZ

function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / ticks;  // utime + stime
}

function memory(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (name) => Number(new RegExp(name + ':\\s+(\\d+)').exec(status)[1]);
  return { rssMiB: kib('VmRSS') / 1024, peakMiB: kib('VmHWM') / 1024 };
}

async function publishRate(address) {
  const response = await fetch(`http://${address}/api/topics`);
  const topics = (await response.json()).topics;
  return topics.reduce((sum, topic) => sum + topic.publish_rate_hz, 0);
}

async function window(pid, label) {
  const cpu0 = cpuSeconds(pid);
  const t0 = Date.now();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const cpu = (cpuSeconds(pid) - cpu0) / ((Date.now() - t0) / 1000);
  const { rssMiB, peakMiB } = memory(pid);
  console.log(`${label}: CPU ${(cpu * 100).toFixed(1)} % of one core, RSS ${rssMiB.toFixed(1)} MiB (peak ${peakMiB.toFixed(1)} MiB)`);
}

async function main() {
  let browser;
  try {
    const serve = await startServe(['--sample-ms', '100']);
    for (let index = 0; index < 10; ++index) await startPublisher(`topic_${index}`, 'robot.pose', 1000);
    const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    console.log(`10 topics at 1 kHz, sampling every 100 ms, ${seconds} s windows, load average ${load}`);
    await new Promise((resolve) => setTimeout(resolve, 2000));  // let all subscribers attach
    console.log(`publishers together: ${(await publishRate(serve.http)).toFixed(0)} publishes/s`);
    await window(serve.child.pid, 'serve, no clients');
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
        '--disable-component-update', '--no-first-run', '--disable-sync'],
    });
    for (let index = 0; index < 3; ++index) {
      const page = await browser.newPage();
      await page.goto(`http://${serve.http}/#topic_${index}`);
      await page.waitForSelector('td[data-field="position.x"]', { timeout: 60000 });
    }
    await window(serve.child.pid, 'serve, 3 dashboard pages');
    console.log(`publishers together: ${(await publishRate(serve.http)).toFixed(0)} publishes/s`);
  } finally {
    if (browser) await browser.close();
    await cleanUp();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
