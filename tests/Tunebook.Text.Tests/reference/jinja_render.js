// Renders chat templates with @huggingface/jinja the way transformers.js's apply_chat_template does, for parity tests.
// stdin: {"now": <ms since epoch>, "cases": [{"id", "template", "messages", "add_generation_prompt",
//         "special_tokens": {...}, "kwargs": {...}}]}
// stdout: [{"id", "ok": true, "output"} | {"id", "ok": false, "error"}]
// Run with TZ=UTC so strftime_now sees the same local time as the C# side.
"use strict";
const path = require("path");
const fs = require("fs");
const { Template } = require(path.join(__dirname, "..", "..", "reference", "node_modules", "@huggingface", "jinja"));

const input = JSON.parse(fs.readFileSync(0, "utf8"));

// strftime_now reads `new Date()`: pin it so both sides render the same date.
const RealDate = Date;
globalThis.Date = class extends RealDate {
  constructor(...args) {
    if (args.length === 0) super(input.now);
    else super(...args);
  }
  static now() { return input.now; }
};

const results = input.cases.map((c) => {
  try {
    const template = new Template(c.template);
    // The variables transformers.js passes: tools and documents default to null, then special tokens, then kwargs.
    const variables = {
      messages: c.messages ?? [],
      add_generation_prompt: c.add_generation_prompt ?? false,
      tools: c.tools ?? null,
      documents: c.documents ?? null,
      ...(c.special_tokens ?? {}),
      ...(c.kwargs ?? {}),
    };
    return { id: c.id, ok: true, output: template.render(variables) };
  } catch (e) {
    return { id: c.id, ok: false, error: String(e && e.message !== undefined ? e.message : e) };
  }
});
process.stdout.write(JSON.stringify(results));
