// llama.cpp (through node-llama-cpp) as a reference for GGUF files Tunebook writes.
// Reads one JSON request on stdin, a job or { "jobs": [job, ...] } (one process for many files: starting
// llama.cpp takes seconds, a tiny model's evaluation milliseconds):
//   { "model": "file.gguf", "vocabOnly": false, "contextSize": 256, "vocabulary": 4096,
//     "tokenize": ["text", ...],                 // → "tokens": ids per text (special tokens parsed, no BOS added)
//     "probabilities": [[id, ...], ...],         // → "probabilities": per prompt, per position, the full next-token distribution
//     "greedy": [{ "ids": [...], "max": 32 }],   // → "greedy": argmax continuations (end-of-generation tokens not special)
//     "generate": [{ "text": "...", "max": 32 }] } // → "generated": [{ "ids", "text" }]: the text tokenized by llama.cpp (special
//                                                 //   tokens parsed), continued greedily up to an end-of-generation token, detokenized
//                                                 //   by llama.cpp: a prompt answered by llama.cpp alone
// and prints the answer (or { "results": [answer, ...] }) as JSON on stdout. Settings that make llama.cpp compute like Tunebook's float32
// forward pass: a float32 KV cache and no flash attention (both would round attention to float16),
// one thread (deterministic, and these machines are small), CPU only with the prebuilt binary.
// No option reaches the CPU GELU, which rounds to float16 through a table built into the binary (GPT-2,
// Gemma 3's GeGLU); GgufNewArchitectureParityTests reproduces it on Tunebook's side.
import { getLlama } from "node-llama-cpp";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const request = JSON.parse(Buffer.concat(chunks).toString("utf8"));

const llama = await getLlama({ gpu: false, build: "never", logLevel: "error" });

async function run(request) {
  const model = await llama.loadModel({ modelPath: request.model, vocabOnly: !!request.vocabOnly, gpuLayers: 0 });
  const answer = {};

  if (request.tokenize) answer.tokens = request.tokenize.map(text => Array.from(model.tokenize(text, true)));

  if (request.probabilities || request.greedy || request.generate) {
    const nVocab = request.vocabulary;
    const context = await model.createContext({
      contextSize: request.contextSize ?? 256,
      threads: 1,
      flashAttention: false,
      experimentalKvCacheKeyType: "F32",
      experimentalKvCacheValueType: "F32",
      sequences: 1,
    });
    const sequence = context.getSequence();
    const dense = map => {
      const p = new Array(nVocab).fill(0);
      for (const [token, value] of map) p[token] = value;
      return p;
    };
    if (request.probabilities) {
      answer.probabilities = [];
      for (const ids of request.probabilities) {
        await sequence.clearHistory();
        const out = await sequence.controlledEvaluate(ids.map(t => [t, { generateNext: { probabilities: true } }]));
        answer.probabilities.push(out.map(o => dense(o.next.probabilities)));
      }
    }
    if (request.greedy) {
      answer.greedy = [];
      for (const { ids, max } of request.greedy) {
        await sequence.clearHistory();
        const continuation = [];
        let input = ids;
        for (let step = 0; step < max; step++) {
          const out = await sequence.controlledEvaluate(input.map((t, i) => i === input.length - 1 ? [t, { generateNext: { probabilities: true } }] : t));
          // The map is sorted by probability, highest first.
          const next = out[out.length - 1].next.probabilities.keys().next().value;
          continuation.push(next);
          input = [next];
        }
        answer.greedy.push(continuation);
      }
    }
    if (request.generate) {
      answer.generated = [];
      for (const { text, max } of request.generate) {
        await sequence.clearHistory();
        const ids = [];
        let input = Array.from(model.tokenize(text, true));
        for (let step = 0; step < max; step++) {
          const out = await sequence.controlledEvaluate(input.map((t, i) => i === input.length - 1 ? [t, { generateNext: { token: true, options: { temperature: 0 } } }] : t));
          const next = out[out.length - 1].next.token;
          if (next == null || model.isEogToken(next)) break;
          ids.push(next);
          input = [next];
        }
        answer.generated.push({ ids, text: model.detokenize(ids) });
      }
    }
    answer.vocabulary = nVocab;
    await context.dispose();
  }
  await model.dispose();
  return answer;
}

const results = [];
for (const job of request.jobs ?? [request]) results.push(await run(job));
await llama.dispose();
process.stdout.write(JSON.stringify(request.jobs ? { results } : results[0]));
