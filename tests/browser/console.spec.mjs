// The console in a real headless Chromium against the local stack (console_e2e runner):
// Deployments → New canary (listener from /environment, form, uploads with progress, a 400
// shown next to its field, then a start) → detail until ACTIVE → traffic change (confirmed,
// checked against the ALB's rules) → judge → destroy (confirmed) until DESTROYED.
// Usage: node tests/browser/console.spec.mjs '<runner JSON line>'; screenshots in
// test-results/console/.
import { chromium } from 'playwright-core';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const info = JSON.parse(process.argv[2] || process.env.CONSOLE_E2E || '{}');
if (!info.console) { console.error('usage: console.spec.mjs <runner JSON>'); process.exit(2); }
const OUT = 'test-results/console';
mkdirSync(OUT, { recursive: true });
const started = Date.now();
const log = (m) => console.log(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${m}`);
const problems = [];

async function rules() {
  const r = await fetch(`${info.debug}/__test/rules`);
  if (!r.ok) throw new Error(`/__test/rules: ${r.status} ${await r.text()}`);
  return r.json();
}

const profile = mkdtempSync(join(tmpdir(), 'aviary-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
  viewport: { width: 1366, height: 900 },
});
const page = context.pages()[0] || await context.newPage();
page.setDefaultTimeout(20000);
const dialogs = [];
page.on('dialog', (d) => { dialogs.push(d.message()); d.accept(); });
page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
page.on('console', (m) => { if (m.type() === 'error' && !/status of (400|404|409|501|502|503)/.test(m.text())) problems.push(`console error: ${m.text()}`); });
const shot = async (name) => { await page.screenshot({ path: `${OUT}/${name}.png`, fullPage: true }); log(`screenshot ${name}.png`); };
const expect = (cond, what) => { if (!cond) throw new Error(`expected: ${what}`); };

let failed = false;
try {
  const before = await rules();

  // Deployments.
  await page.goto(info.console);
  await page.getByRole('heading', { name: 'Deployments' }).waitFor();
  await page.getByText('No deployments').waitFor();
  await shot('01-deployments-empty');

  // New canary: keyboard reaches the navigation, every field is labelled.
  await page.locator('.skip').focus();
  await page.keyboard.press('Tab'); // Deployments
  await page.keyboard.press('Tab'); // New canary
  expect(await page.evaluate(() => document.activeElement.textContent) === 'New canary', 'Tab reaches the New canary link');
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'New canary' }).waitFor();
  const unlabelled = await page.evaluate(() => [...document.querySelectorAll('main input, main select')]
    .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')).map((el) => el.outerHTML));
  expect(unlabelled.length === 0, `every field labelled (unlabelled: ${unlabelled.join(' ')})`);

  await page.waitForFunction(() => document.querySelector('[data-field="loadBalancer"]').options.length > 1);
  await page.getByLabel('Load balancer').selectOption(info.loadBalancerArn);
  await page.getByLabel('Listener').selectOption(info.listenerArn);
  await page.getByText('Current rules of').waitFor();
  await page.getByLabel('Canary name').fill('web');
  await page.getByLabel('Traffic share for the canary (%)').fill('80'); // over the API's 50: a 400
  await page.getByLabel('HTTP methods').fill('GET, HEAD');
  await page.getByLabel('Sticky sessions').check();
  await page.getByLabel('Stickiness duration (seconds)').fill('600');
  await page.getByLabel('App port').fill('8080');
  await page.getByLabel('Health check path').fill('/health');
  await page.getByLabel('Time to live (minutes)').fill('120');
  await page.getByLabel('Monitoring allowed CIDR').fill('203.0.113.0/24');
  await page.getByLabel('Baseline tarball (docker save)', { exact: true }).setInputFiles(join(info.sampleDir, 'baseline.tar'));
  await page.getByLabel('Compose file', { exact: true }).setInputFiles(join(info.sampleDir, 'compose.yml'));
  await page.getByLabel('Canary tarball (docker save)', { exact: true }).setInputFiles(join(info.sampleDir, 'canary.tar'));
  await shot('02-new-canary-form');

  await page.getByRole('button', { name: 'Upload and start canary' }).click();
  const trafficErr = page.locator('[data-field="trafficPercent"] ~ .field-error');
  await trafficErr.filter({ hasText: /\S/ }).waitFor({ timeout: 60000 });
  log(`400 shown next to the traffic field: "${await trafficErr.textContent()}"`);
  for (const k of ['baseline', 'compose', 'canary']) {
    expect(await page.locator(`#progress-${k}`).evaluate((p) => p.value) === 1, `${k} upload progress reached 100%`);
  }
  expect(await page.getByLabel('Traffic share for the canary (%)').getAttribute('aria-invalid') === 'true', 'traffic field marked invalid');
  await shot('03-new-canary-validation');

  await page.getByLabel('Traffic share for the canary (%)').fill('5');
  await page.getByRole('button', { name: 'Upload and start canary' }).click();
  await page.waitForURL(/#\/d\//, { timeout: 60000 });
  const id = decodeURIComponent(page.url().split('#/d/')[1]);
  log(`started ${id}`);
  await page.locator('#status-text', { hasText: /^ACTIVE$/ }).waitFor({ timeout: 240000 });
  await page.locator('#events tbody tr').first().waitFor();
  log(`ACTIVE; split: ${await page.locator('#split').textContent()}`);
  expect(!(await page.locator('main').textContent()).includes('[object '), 'detail page renders every value as text');
  await page.locator('#resources dt', { hasText: 'Canary instance' }).waitFor();
  expect(!(await page.locator('#resources').textContent()).includes('canaryInstanceId'), 'resource keys read as words');
  expect((await page.locator('.status-line').textContent()).split('ACTIVE').length === 2, 'the status is shown once');
  // The live verdict: right after activation no period has closed yet.
  await page.locator('#live-decision', { hasText: 'No difference yet' }).waitFor({ timeout: 60000 });
  log(`live verdict: ${(await page.locator('#live-verdict').textContent()).slice(0, 160)}`);
  expect(await page.locator('#traffic-now .weightbar').count() === 1, 'a weight bar for production / baseline / canary');
  expect((await page.locator('#durations').textContent()).includes('provision'), 'step durations under the timeline');
  // The timeline: each status passed shows how long it lasted, the current one how long so far.
  const provisioning = await page.locator('#timeline li', { hasText: 'PROVISIONING' }).textContent();
  expect(/PROVISIONING \d+(\.\d)? m?s$/.test(provisioning.trim()), `a status passed shows its duration: ${provisioning}`);
  const activeNow = await page.locator('#timeline li.current').textContent();
  expect(/^ACTIVE .+ so far$/.test(activeNow.trim()), `the current status shows how long so far: ${activeNow}`);
  await shot('04-detail-active');

  // Real requests cross the canary rule (the runner's data plane, a slow canary): the live
  // verdict draws baseline-vs-canary charts and decides.
  await page.locator('#live-charts svg.chart').first().waitFor({ timeout: 60000 });
  await page.locator('#live-decision', { hasText: 'Canary worse' }).waitFor({ timeout: 120000 });
  log(`live verdict decided: ${(await page.locator('#live-verdict').textContent()).slice(0, 200)}`);
  await page.locator('#live-verdict').scrollIntoViewIfNeeded();
  await shot('04b-detail-live-verdict');

  // 390 px wide: the list becomes cards, nothing scrolls sideways; then back.
  await page.setViewportSize({ width: 390, height: 844 });
  const noSideways = async (what) => {
    const [sw, iw] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
    expect(sw <= iw, `${what} fits 390 px (scrollWidth ${sw})`);
  };
  await page.goto(`${info.console}#/`);
  await page.locator('#deployments table.list tbody tr').first().waitFor();
  expect(await page.locator('#deployments .weightbar').count() >= 1, 'the list shows weight bars');
  await noSideways('the deployments list');
  await shot('11-deployments-390');
  await page.goto(`${info.console}#/d/${encodeURIComponent(id)}`);
  await page.locator('#status-text', { hasText: /^ACTIVE$/ }).waitFor();
  await noSideways('the detail page');
  await shot('12-detail-390');
  await page.setViewportSize({ width: 1280, height: 800 });

  // Traffic change, confirmed; the page and the ALB agree.
  const canaryWeight = page.locator('td[data-role="canary"]');
  const weightBefore = await canaryWeight.textContent();
  await page.getByLabel('Canary traffic share (%)').fill('10');
  await page.getByRole('button', { name: 'Apply traffic change' }).click();
  await page.locator('#traffic-msg .ok').waitFor({ timeout: 60000 });
  expect(dialogs.some((m) => m.includes('10%')), 'the traffic change asked for confirmation');
  const split = await page.locator('#split').textContent();
  expect(split.includes('canary 10%'), `page shows canary 10% (${split})`);
  const weightAfter = await canaryWeight.textContent();
  expect(weightAfter !== weightBefore, `canary weight changed on the page (${weightBefore} → ${weightAfter})`);
  const during = await rules();
  const rule = during.find((r) => r.forward.length === 3);
  expect(rule, 'the ALB has the canary rule');
  const total = rule.forward.reduce((a, t) => a + t.weight, 0);
  const dep = await (await fetch(`${info.console}api/deployments/${encodeURIComponent(id)}`)).json();
  const canaryArn = dep.resources.canaryTargetGroupArn;
  const onAlb = rule.forward.find((t) => t.targetGroupArn === canaryArn);
  log(`ALB rule: ${JSON.stringify(rule.forward)}; page canary weight ${weightAfter}; canary TG ${canaryArn}`);
  expect(onAlb && String(onAlb.weight) === weightAfter.trim(), `the ALB rule forwards to the canary with the page's weight ${weightAfter}`);
  expect(Math.abs(onAlb.weight / total - 0.10) < 0.011, `ALB canary share ≈ 10% (${onAlb.weight}/${total})`);
  log(`ALB rule ${rule.priority}: ${rule.forward.map((t) => t.weight).join('/')} (canary ${onAlb.weight}/${total})`);
  await shot('05-detail-traffic-changed');

  // The judge: a verdict, or a clear message when no metrics can be fetched (the emulator serves no CloudWatch to the Rust SDK).
  await page.getByRole('button', { name: 'Judge baseline vs canary' }).click();
  await page.locator('#verdict, #judge-unavailable, #judge-result .error').first().waitFor({ timeout: 60000 });
  log(`judge: ${(await page.locator('#judge-result').textContent()).slice(0, 160)}`);
  await page.locator('#judge-result').scrollIntoViewIfNeeded();
  await shot('06-detail-judge');
  // The verdict view itself, with a record shaped like the API's (until the route is served).
  const rendered = await page.evaluate(async () => {
    const { renderRecord } = await import('/assets/js/judge.js');
    const start = '2025-11-25T19:46:40Z';
    const wave = (k) => Array.from({ length: 30 }, (_, i) => (i === 7 ? null : 100 + k * i + 10 * Math.sin(i / 3)));
    const rec = {
      analysisId: 'sample', deploymentId: 'x', createdAt: start, source: 'prometheus', window: { start, end: '2025-11-25T20:16:40Z', stepSeconds: 60 },
      report: { score: 50, classification: 'Marginal', thresholds: { pass: 75, marginal: 50 }, tolerance: 0.25, confidence: 0.95, groups: [], warnings: [],
        metrics: [{ name: 'latency_p99', groups: ['Latency'], direction: 'increase', muted: false, label: 'High', critical: false, reasons: ['canary 12% higher'], samples: { baseline: 29, canary: 29 } },
          { name: 'error_rate', groups: ['Errors'], direction: 'increase', muted: false, label: 'Pass', critical: true, reasons: [], samples: { baseline: 29, canary: 29 } }] },
      series: { latency_p99: { stepSeconds: 60, baseline: wave(0), canary: wave(1) }, error_rate: { stepSeconds: 60, baseline: wave(0).map((v) => v && v / 1000), canary: wave(0).map((v) => v && v / 990) } },
    };
    const out = document.getElementById('judge-result');
    out.replaceChildren(document.createTextNode('Sample record (rendered by the test): '), renderRecord(rec));
    return { charts: out.querySelectorAll('svg.chart path.line').length, rows: out.querySelectorAll('#metrics tbody tr').length, verdict: out.querySelector('#verdict').textContent };
  });
  expect(rendered.charts === 4 && rendered.rows === 2 && rendered.verdict.includes('Marginal'), `verdict view renders (${JSON.stringify(rendered)})`);
  await page.locator('#judge-result').scrollIntoViewIfNeeded();
  await shot('06b-judge-verdict-sample');

  // Destroy, confirmed, followed until DESTROYED; the listener is as it was.
  await page.getByRole('button', { name: 'Destroy canary…' }).click();
  expect(dialogs.some((m) => m.startsWith('Destroy canary')), 'destroy asked for confirmation');
  await page.locator('#status-text', { hasText: /^DESTROYED$/ }).waitFor({ timeout: 240000 });
  await page.locator('#final').waitFor();
  // A deployment that does not exist: the message only, no form, no "Loading…".
  await page.goto(`${info.console}#/d/nothing-0123456789`);
  await page.locator('main .error').first().waitFor({ timeout: 30000 });
  const missing = await page.locator('main').textContent();
  expect(!missing.includes('Loading') && (await page.locator('#traffic-form').count()) === 0, `a 404 shows only its message (${missing.slice(0, 120)})`);
  await shot('10-detail-not-found');
  const after = await rules();
  expect(JSON.stringify(after) === JSON.stringify(before), 'listener rules restored exactly');
  await shot('07-detail-destroyed');

  await page.getByRole('link', { name: 'Deployments' }).first().click();
  await page.locator(`tr[data-id="${id}"]`, { hasText: 'DESTROYED' }).waitFor();
  await page.getByLabel('Status').selectOption('DESTROYED');
  await page.locator(`tr[data-id="${id}"]`).waitFor();
  await shot('08-deployments-destroyed');
  expect(problems.length === 0, `no page errors (${problems.join('; ')})`);
  log('PASS');
} catch (e) {
  failed = true;
  console.error(`FAIL: ${e.message}`);
  for (const p of problems) console.error(`  ${p}`);
  try { await shot('failure'); } catch { /* the page may be gone */ }
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
