// Reference ids from Hugging Face's own JavaScript tokenizers (@huggingface/tokenizers) and, for GPT-2's
// original files, from gpt-3-encoder. Reads one JSON request on stdin, writes one JSON answer on stdout:
//   {"tokenizer": "path/tokenizer.json", "config": "path/tokenizer_config.json" | null,
//    "texts": [...], "pairs": [...] | null, "add_special_tokens": true, "all_modes": false, "decode": [[ids]...] | null, "skip_special_tokens": false}
//   {"engine": "gpt-3-encoder", "texts": [...]}
// → {"ids": [[...]], "tokens": [[...]], "type_ids": [[...]], "decoded": [...]}
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const modules = path.resolve(here, "../../reference/node_modules");
const request = JSON.parse(fs.readFileSync(0, "utf8"));
const answer = {};

if (request.engine === "gpt-3-encoder") {
  const require = createRequire(path.join(modules, "gpt-3-encoder", "index.js"));
  const { encode, decode } = require(path.join(modules, "gpt-3-encoder"));
  answer.ids = request.texts.map((t) => encode(t));
  if (request.decode) answer.decoded = request.decode.map((ids) => decode(ids));
} else {
  const { Tokenizer } = await import(pathToFileURL(path.join(modules, "@huggingface/tokenizers/dist/tokenizers.mjs")).href);
  const json = JSON.parse(fs.readFileSync(request.tokenizer, "utf8"));
  const config = request.config ? JSON.parse(fs.readFileSync(request.config, "utf8")) : {};
  const tokenizer = new Tokenizer(json, config);
  const add = request.add_special_tokens ?? true;
  const pairs = request.pairs ?? null;
  const encodings = request.texts.map((t, i) =>
    tokenizer.encode(t, { add_special_tokens: add, text_pair: pairs ? pairs[i] : null, return_token_type_ids: true }));
  answer.ids = encodings.map((e) => e.ids);
  answer.tokens = encodings.map((e) => e.tokens);
  answer.type_ids = encodings.map((e) => e.token_type_ids ?? null);
  // "all_modes": also answer for add_special_tokens = false and for decoding with skip_special_tokens = true,
  // so one node process (one tokenizer load) serves a whole parity test.
  if (request.all_modes)
    answer.ids_no_special = request.texts.map((t, i) => tokenizer.encode(t, { add_special_tokens: false, text_pair: pairs ? pairs[i] : null }).ids);
  const decode = (ids, skip) => (ids.length === 0 ? "" : tokenizer.decode(ids, { skip_special_tokens: skip, clean_up_tokenization_spaces: false }));
  if (request.decode) {
    answer.decoded = request.decode.map((ids) => decode(ids, request.skip_special_tokens ?? false));
    if (request.all_modes) answer.decoded_skip_special = request.decode.map((ids) => decode(ids, true));
  }
}
process.stdout.write(JSON.stringify(answer));
