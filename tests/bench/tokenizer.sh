#!/usr/bin/env bash
# Tokenizer throughput (MB/s of English text, one core) for Tunebook vs Hugging Face's tokenizers.js in the
# same run, with the ratio; JSON lines go to build/bench/tokenizer.jsonl. TOKENIZER_BENCH_MB sets the corpus size.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p build/bench
dotnet build tests/Tunebook.TokenizerBench -c Release -v quiet -nologo -clp:ErrorsOnly >/dev/null
dotnet tests/Tunebook.TokenizerBench/bin/Release/net10.0/Tunebook.TokenizerBench.dll "$PWD" "$PWD/build/bench" "${TOKENIZER_BENCH_MB:-2}"
