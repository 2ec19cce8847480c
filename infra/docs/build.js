// Builds dist/reference.html, PyTake's API reference page, from
// internal/api/openapi.json with the pinned Redocly CLI (package-lock.json),
// as one self-contained file: Redoc's scripts are inlined (--inlineBundle),
// and the attribution badge's two logo images, which the bundle would fetch
// from Redocly's CDN, are replaced with an inline image, so the page makes no
// request of its own (it works offline, and behind any static host; its
// telemetry is off). The
// build fails if the output still refers to a script, style or image outside
// itself.
'use strict';

const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const spec = path.join(__dirname, '..', '..', 'internal', 'api', 'openapi.json');
const out = path.join(__dirname, 'dist', 'reference.html');
const cli = path.join(__dirname, 'node_modules', '@redocly', 'cli', 'bin', 'cli.js');

// Telemetry off whoever runs this (make exports the same): with it on, the
// CLI reports to Redocly's servers and, worse, the page it writes sends
// traces from every reader's browser (__redoc_options.disableTelemetry).
execFileSync(process.execPath, [cli, 'build-docs', spec, '--output', out, '--inlineBundle',
  '--title', 'PyTake API reference'], {
  stdio: ['ignore', 'inherit', 'inherit'],
  env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
});

// The badge reads "API docs by" and a logo; keep the words, draw no logo.
const blank = 'data:image/svg+xml,%3Csvg xmlns=%22http://www.w3.org/2000/svg%22 width=%221%22 height=%221%22/%3E';
let html = fs.readFileSync(out, 'utf8');
const logo = /https:\/\/[a-z0-9.-]+\/redoc\/logo-mini(-full)?\.svg/g;
const replaced = (html.match(logo) || []).length;
html = html.replace(logo, blank);

// Anything still loaded from elsewhere (links to read are fine).
const external = /(?:src|srcset|href)\s*[=:]\s*[`"']https?:\/\/[^`"']+\.(?:js|mjs|css|svg|png|jpe?g|gif|webp|woff2?|ttf)(?:\?[^`"']*)?[`"']|@import\s+url\(\s*['"]?https?:|url\(\s*['"]?https?:\/\/[^)]+\.(?:woff2?|ttf|otf|png|svg)/gi;
if (!html.includes('"disableTelemetry":true')) {
  console.error('reference.html: the page would send telemetry (no "disableTelemetry":true in its options)');
  process.exit(1);
}
const left = html.match(external);
if (left) {
  console.error('reference.html still loads from outside itself:\n  ' + [...new Set(left)].join('\n  '));
  process.exit(1);
}
fs.writeFileSync(out, html);
console.log(`reference.html: ${(html.length / 1024).toFixed(0)} KiB, ${replaced} external logo reference(s) inlined`);
