// Prints JavaScript's toUpperCase/toLowerCase of every BMP code point whose mapping is not the identity, as JSON:
// {"upper": {"<code>": "<mapped>"}, "lower": {...}}. The chat template engine must case strings the same way.
"use strict";
const upper = {}, lower = {};
for (let c = 0; c <= 0xffff; c++) {
  if (c >= 0xd800 && c <= 0xdfff) continue;
  const s = String.fromCharCode(c);
  if (s.toUpperCase() !== s) upper[c] = s.toUpperCase();
  if (s.toLowerCase() !== s) lower[c] = s.toLowerCase();
}
process.stdout.write(JSON.stringify({ upper, lower }));
