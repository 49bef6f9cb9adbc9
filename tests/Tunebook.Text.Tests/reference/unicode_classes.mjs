// Reference membership of regex character classes over every Unicode scalar value, from node's RegExp with
// the `u` flag (ICU's Unicode data, what Hugging Face's tokenizers.js runs). One JSON request on stdin:
//   {"classes": {"name": "JS class source", ...}}
// → {"unicode": "17.0", "icu": "78.2", "classes": {"name": [first, last, first, last, ...]}, "unassigned": [...]}
// Ranges are inclusive; the surrogates U+D800..U+DFFF, which are not scalar values, are in no class.
import fs from "node:fs";

const request = JSON.parse(fs.readFileSync(0, "utf8"));

function ranges(source) {
  const re = new RegExp(`^(?:${source})$`, "u");
  const out = [];
  let start = -1;
  for (let cp = 0; cp <= 0x110000; cp++) {
    const isScalar = cp < 0x110000 && (cp < 0xd800 || cp > 0xdfff);
    const inside = isScalar && re.test(String.fromCodePoint(cp));
    if (inside && start < 0) start = cp;
    if (!inside && start >= 0) {
      out.push(start, cp - 1);
      start = -1;
    }
  }
  return out;
}

const classes = {};
for (const [name, source] of Object.entries(request.classes)) classes[name] = ranges(source);
process.stdout.write(JSON.stringify({
  unicode: process.versions.unicode,
  icu: process.versions.icu,
  classes,
  unassigned: ranges("\\p{Cn}"),
}));
