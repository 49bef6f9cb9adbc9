// Throughput of Hugging Face's tokenizers.js on the benchmark corpus (one line = one text, no special tokens).
// Usage: node tokenizer_hf.mjs <tokenizer-folder> <corpus.txt>  →  {"mb_per_s": ..., "mb_per_cpu_s": ..., "tokens": ..., "checksum": ...}
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const { Tokenizer } = await import(pathToFileURL(path.resolve(here, "../reference/node_modules/@huggingface/tokenizers/dist/tokenizers.mjs")).href);
const [folder, corpus] = process.argv.slice(2);
const read = (f) => (fs.existsSync(path.join(folder, f)) ? JSON.parse(fs.readFileSync(path.join(folder, f), "utf8")) : {});
const json = read("tokenizer.json"), config = read("tokenizer_config.json");
const lines = fs.readFileSync(corpus, "utf8").split("\n");
if (lines[lines.length - 1] === "") lines.pop();
const bytes = lines.reduce((n, l) => n + Buffer.byteLength(l, "utf8"), 0);

// Warm the JIT on a throwaway instance and other text, then time a fresh instance (cold word cache), as the C# side does.
const warm = new Tokenizer(json, config);
for (const l of lines.slice(0, 200)) warm.encode(l.split(" ").reverse().join(" "), { add_special_tokens: false });
// Best of three fresh instances, as on the C# side.
let seconds = Infinity, cpuSeconds = Infinity, all = null;
for (let run = 0; run < 3; run++) {
  const tokenizer = new Tokenizer(json, config);
  const cpu0 = process.cpuUsage();
  const start = process.hrtime.bigint();
  all = lines.map((l) => tokenizer.encode(l, { add_special_tokens: false }).ids);
  seconds = Math.min(seconds, Number(process.hrtime.bigint() - start) / 1e9);
  const cpu = process.cpuUsage(cpu0);
  cpuSeconds = Math.min(cpuSeconds, (cpu.user + cpu.system) / 1e6);
}

let h = 0n, tokens = 0;
for (const ids of all) {
  for (const id of ids) h = (h * 1000003n + BigInt(id) + 1n) % 2147483647n;
  h = (h * 31n + 7n) % 2147483647n;
  tokens += ids.length;
}
process.stdout.write(JSON.stringify({ mb_per_s: bytes / 1e6 / seconds, mb_per_cpu_s: bytes / 1e6 / cpuSeconds, tokens, checksum: Number(h) }));
