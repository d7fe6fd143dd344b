// The dashboard in headless Chromium (playwright-core): the page loads, a topic
// that starts publishing appears, its value changes, a killed publisher shows as
// stale. Writes a screenshot to $SHMSNAP_SCREENSHOT (or the build directory).
// Every wait has a deadline; run by ctest (tests/integration/serve.cmake).
'use strict';
const { cleanUp, launchChromium, patienceMs, removeDeadLeftovers, startPublisher, startServe } = require('./support.cjs');

async function main() {
  let browser;
  try {
  const serve = await startServe(['--sample-ms', '100']);
  browser = await launchChromium();
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  page.setDefaultTimeout(patienceMs);
  // Nothing the page loads by itself may be missing (the favicon was a 404).
  const missing = [];
  page.on('response', (response) => { if (response.status() >= 400) missing.push(`${response.status()} ${response.url()}`); });
  await page.goto(`http://${serve.http}/`);
  await page.waitForSelector('#connection[data-state="connected"]');
  await page.waitForSelector('#no-topics:not([hidden])');
  console.log('page loaded, no topics yet');
  const icon = await page.evaluate(async () => {
    const response = await fetch('/favicon.ico');
    return [response.status, response.headers.get('content-type')];
  });
  if (icon[0] !== 200 || icon[1] !== 'image/svg+xml') throw new Error(`/favicon.ico answered ${icon}`);
  // Ages never read "-0 ms", however small or (from a skewed stamp) below zero.
  const ages = await page.evaluate(() => [-0.0001, -0, 0, 0.0004, 0.25, 3].map(ageText));
  if (ages.some((text) => text.startsWith('-'))) throw new Error(`negative age text: ${ages}`);
  if (ages[5] !== '3.0 s' || ages[4] !== '250 ms') throw new Error(`age texts: ${ages}`);

  await startPublisher('robot_pose', 'robot.pose', 50);
  const health = await startPublisher('service_health', 'service.health', 20);
  await startPublisher('quote_book', 'market.quote_book', 200);
  await page.waitForSelector('tr[data-topic="robot_pose"][data-state="live"]');
  await page.waitForSelector('tr[data-topic="service_health"][data-state="live"]');
  console.log('published topics appeared');

  await page.click('tr[data-topic="robot_pose"]');
  const field = 'td[data-field="position.x"]';
  await page.waitForSelector(field);
  const first = await page.textContent(field);
  await page.waitForFunction(([selector, before]) => {
    const cell = document.querySelector(selector);
    return cell && cell.textContent !== before;
  }, [field, first]);
  console.log('value changed from', first);
  // The descriptor's unit sits next to the value, its description on the field's name.
  const unit = await page.textContent('td[data-unit-of="position.x"]');
  if (unit !== 'm') throw new Error(`unit of position.x: '${unit}'`);
  const described = await page.getAttribute('tr:has(td[data-field="stamp.nanosec"]) td:first-child', 'title');
  if (described !== '0..999999999') throw new Error(`description of stamp.nanosec: '${described}'`);
  console.log('units and descriptions shown');

  health.kill('SIGKILL');
  await page.waitForSelector('tr[data-topic="service_health"][data-state="stale"]');
  console.log('killed publisher shown as stale');
  // What the SIGKILL left is ours to remove; cleanUp() then fails on anything the
  // processes that stop cleanly leave behind.
  removeDeadLeftovers();

  // Let the plots gather a few seconds of points (a condition, not a sleep).
  await page.waitForFunction(() => {
    const match = /seq (\d+)/.exec(document.getElementById('detail-seq').textContent);
    return match && Number(match[1]) > 250 && document.querySelectorAll('#plots canvas').length >= 4;
  });
  const plotUnit = await page.textContent('#plots .plot[data-field="position.x"] .label .unit');
  if (plotUnit !== '[m]') throw new Error(`the plot of position.x is titled without its unit: '${plotUnit}'`);
  if (missing.length > 0) throw new Error(`the page loaded something missing: ${missing.join(', ')}`);
  const screenshot = process.env.SHMSNAP_SCREENSHOT || 'dashboard.png';
  await page.screenshot({ path: screenshot, fullPage: true });
  console.log('screenshot', screenshot);
  } finally {
    if (browser) await browser.close();
    await cleanUp();
  }
  console.log('PASS');
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
