// Reference renderer for the starter model's chat template: Hugging Face's own Jinja implementation
// (@huggingface/jinja, the one transformers.js uses). Reads {template, messages, add_generation_prompt}
// as JSON on stdin and writes the rendered text to stdout.
// Usage: node StarterChatTemplate.cjs <repo root> < request.json
const path = require("path");
const { createRequire } = require("module");
const root = process.argv[2];
const load = createRequire(path.join(root, "tests", "reference", "package.json"));
const { Template } = load("@huggingface/jinja");

let input = "";
process.stdin.on("data", (d) => (input += d));
process.stdin.on("end", () => {
  const request = JSON.parse(input);
  const text = new Template(request.template).render({
    messages: request.messages,
    add_generation_prompt: request.add_generation_prompt,
  });
  process.stdout.write(text);
});
