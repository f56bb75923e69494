// Probes the services the integration and contract suites need, once per run, and writes what it
// found for the suites to read. With REQUIRE_SERVICES=1 (set by .ci/run) a missing service fails
// the run instead of skipping its suites.
const { execFileSync } = require('node:child_process');
const { mkdirSync, writeFileSync } = require('node:fs');
const net = require('node:net');
const { join } = require('node:path');
const { serviceUrls, SERVICES_FILE } = require('./service-urls');

function reachable(url) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port), timeout: 1000 });
    const done = (ok, why) => {
      socket.destroy();
      resolve(ok ? { ok: true } : { ok: false, why });
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false, `no answer from ${hostname}:${port} within 1 s`));
    socket.once('error', (error) => done(false, `${hostname}:${port}: ${error.code || error.message}`));
  });
}

/**
 * The web app, built when its sources are newer than the build: here, once, rather than by each
 * suite that starts a runtime or a browser side by side with another.
 */
function buildWebApp() {
  execFileSync(process.execPath, [join(__dirname, '../../bin/web-build.mjs')], { stdio: ['ignore', 'ignore', 'inherit'] });
}

module.exports = async function globalSetup() {
  buildWebApp();
  const urls = serviceUrls();
  const status = {};
  for (const [name, url] of Object.entries(urls)) status[name] = { url, ...(await reachable(url)) };
  mkdirSync(join(SERVICES_FILE, '..'), { recursive: true });
  writeFileSync(SERVICES_FILE, JSON.stringify(status, null, 2));
  const missing = Object.entries(status).filter(([, s]) => !s.ok);
  if (missing.length === 0) return;
  const lines = missing.map(([name, s]) => `  ${name} (${s.url}): ${s.why}`);
  if (process.env.REQUIRE_SERVICES === '1') {
    throw new Error(`REQUIRE_SERVICES=1 but these services are unreachable:\n${lines.join('\n')}`);
  }
  console.warn(`\nSuites needing these services are skipped:\n${lines.join('\n')}\n`);
};
