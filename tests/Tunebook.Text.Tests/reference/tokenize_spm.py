#!/usr/bin/env python3
"""SentencePiece reference: trains a small SentencePiece BPE model (Llama 2's settings: byte fallback,
identity normalization, dummy prefix, split digits, whitespace-only pieces), converts it to a
tokenizer.json the way transformers' LlamaConverter does, and returns SentencePiece's own ids.

stdin: {"corpus": "path/to/training.txt", "out": "folder", "vocab_size": 700, "texts": [...]}
stdout: {"tokenizer": "folder/tokenizer.json", "ids": [[...]], "decoded": ["..."]}
Needs Debian's python3-sentencepiece.
"""
import json
import os
import sys

import sentencepiece as spm

req = json.load(sys.stdin)
out = req["out"]
os.makedirs(out, exist_ok=True)
prefix = os.path.join(out, "spm")
spm.SentencePieceTrainer.train(
    input=req["corpus"], model_prefix=prefix, model_type="bpe", vocab_size=req.get("vocab_size", 700),
    character_coverage=0.995, byte_fallback=True, normalization_rule_name="identity",
    remove_extra_whitespaces=False, add_dummy_prefix=True, split_digits=True, allow_whitespace_only_pieces=True,
    hard_vocab_limit=False, num_threads=1, minloglevel=2, unk_id=0, bos_id=1, eos_id=2, pad_id=-1)
sp = spm.SentencePieceProcessor(model_file=prefix + ".model")

# Vocabulary and merges as transformers' SentencePieceExtractor derives them for BPE models:
# every split of a piece into two known pieces is a merge, ranked by the merged piece's score.
vocab = {sp.id_to_piece(i): i for i in range(sp.get_piece_size())}
scores = {sp.id_to_piece(i): sp.get_score(i) for i in range(sp.get_piece_size())}
merges = []
for piece, score in scores.items():
    local = [(piece[:k], piece[k:], score) for k in range(1, len(piece)) if piece[:k] in vocab and piece[k:] in vocab]
    local.sort(key=lambda m: (vocab[m[0]], vocab[m[1]]))
    merges.extend(local)
merges.sort(key=lambda m: m[2], reverse=True)


def added(i, content):
    return {"id": i, "content": content, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True}


tokenizer = {
    "version": "1.0",
    "truncation": None,
    "padding": None,
    "added_tokens": [added(0, "<unk>"), added(1, "<s>"), added(2, "</s>")],
    "normalizer": {"type": "Sequence", "normalizers": [
        {"type": "Prepend", "prepend": "\u2581"},
        {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]},
    "pre_tokenizer": None,
    "post_processor": {"type": "TemplateProcessing",
                       "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
                       "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                                {"SpecialToken": {"id": "<s>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
                       "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}},
    "decoder": {"type": "Sequence", "decoders": [
        {"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "},
        {"type": "ByteFallback"}, {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
    "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None,
              "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": True,
              "vocab": vocab, "merges": [[a, b] for a, b, _ in merges]},
}
path = os.path.join(out, "tokenizer.json")
with open(path, "w", encoding="utf-8") as f:
    json.dump(tokenizer, f, ensure_ascii=False)

ids = [sp.encode(t) for t in req["texts"]]
print(json.dumps({"tokenizer": path, "ids": ids, "decoded": [sp.decode(i) for i in ids]}))
