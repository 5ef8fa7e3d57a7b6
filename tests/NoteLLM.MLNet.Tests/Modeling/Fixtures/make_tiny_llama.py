#!/usr/bin/env python3
"""Writes the golden fixture of LlamaGoldenTests: a tiny random LLaMA checkpoint in Hugging Face layout and the
logits and last hidden states that an independent plain-PyTorch implementation of Hugging Face's LLaMA forward
(transformers' modeling_llama.py: LlamaRMSNorm, LlamaRotaryEmbedding with rotate_half, repeat_kv, LlamaMLP, eager
causal attention) computes from it. Needs only torch (no transformers, no safetensors package).

    python3 tests/NoteLLM.MLNet.Tests/Modeling/Fixtures/make_tiny_llama.py

writes tiny-llama/config.json, tiny-llama/model.safetensors and tiny-llama/reference.json next to this script.
The output is deterministic for a given torch version (seeded generator, CPU).
"""
import json
import math
import os
import struct

import torch

CONFIG = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "vocab_size": 64,
    "hidden_size": 32,
    "intermediate_size": 48,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "max_position_embeddings": 128,
    "rms_norm_eps": 1e-5,
    "rope_theta": 10000.0,
    "tie_word_embeddings": False,
    "attention_bias": False,
    "hidden_act": "silu",
    "bos_token_id": 1,
    "eos_token_id": 2,
    "torch_dtype": "float32",
}
INPUT_IDS = [[1, 17, 42, 5, 63, 8, 30], [1, 9, 55, 21, 4]]


def make_weights(generator):
    """HF parameter names and shapes. Weights are scaled so activations stay of order 1 (HF's N(0, 0.02) init
    would make every logit nearly 0, too flat to tell a right forward from a wrong one); norm weights are
    random around 1 so that a norm applied with the wrong weight shows."""
    c = CONFIG
    d, f, v = c["hidden_size"], c["intermediate_size"], c["vocab_size"]
    e = d // c["num_attention_heads"]
    h, k = c["num_attention_heads"] * e, c["num_key_value_heads"] * e

    def linear(out_features, in_features):
        return torch.randn(out_features, in_features, generator=generator) / math.sqrt(in_features)

    def norm():
        return 1 + 0.2 * torch.randn(d, generator=generator)

    w = {"model.embed_tokens.weight": torch.randn(v, d, generator=generator)}
    for i in range(c["num_hidden_layers"]):
        p = f"model.layers.{i}."
        w[p + "self_attn.q_proj.weight"] = linear(h, d)
        w[p + "self_attn.k_proj.weight"] = linear(k, d)
        w[p + "self_attn.v_proj.weight"] = linear(k, d)
        w[p + "self_attn.o_proj.weight"] = linear(d, h)
        w[p + "mlp.gate_proj.weight"] = linear(f, d)
        w[p + "mlp.up_proj.weight"] = linear(f, d)
        w[p + "mlp.down_proj.weight"] = linear(d, f)
        w[p + "input_layernorm.weight"] = norm()
        w[p + "post_attention_layernorm.weight"] = norm()
    w["model.norm.weight"] = norm()
    w["lm_head.weight"] = linear(v, d)
    return {name: t.to(torch.float32).contiguous() for name, t in w.items()}


def rms_norm(x, weight, eps):
    # LlamaRMSNorm: x * rsqrt(mean(x^2) + eps), then the weight.
    return weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def rotate_half(x):
    # modeling_llama.rotate_half: the second half, negated, before the first.
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def repeat_kv(x, n_rep):
    # modeling_llama.repeat_kv: [B, K, T, E] -> [B, K * n_rep, T, E], key/value head j serving query heads j*n_rep ...
    b, k, t, e = x.shape
    return x[:, :, None, :, :].expand(b, k, n_rep, t, e).reshape(b, k * n_rep, t, e)


def forward(w, ids):
    """HF LlamaForCausalLM forward for one unpadded sequence: (logits [T, V], last hidden state [T, D])."""
    c = CONFIG
    heads, kv_heads = c["num_attention_heads"], c["num_key_value_heads"]
    e = c["hidden_size"] // heads
    eps = c["rms_norm_eps"]
    t = len(ids)
    w = {name: x.to(torch.float64) for name, x in w.items()}  # float32 weights, float64 arithmetic

    # LlamaRotaryEmbedding (default rope): inv_freq = 1 / theta^(2i / E); cos/sin of cat(freqs, freqs).
    inv_freq = 1.0 / (c["rope_theta"] ** (torch.arange(0, e, 2, dtype=torch.float64) / e))
    freqs = torch.arange(t, dtype=torch.float64)[:, None] * inv_freq[None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos(), emb.sin()  # [T, E]
    causal = torch.full((t, t), float("-inf"), dtype=torch.float64).triu(1)

    x = w["model.embed_tokens.weight"][torch.tensor(ids)][None]  # [1, T, D]
    for i in range(c["num_hidden_layers"]):
        p = f"model.layers.{i}."
        h = rms_norm(x, w[p + "input_layernorm.weight"], eps)
        q = (h @ w[p + "self_attn.q_proj.weight"].T).view(1, t, heads, e).transpose(1, 2)
        k = (h @ w[p + "self_attn.k_proj.weight"].T).view(1, t, kv_heads, e).transpose(1, 2)
        v = (h @ w[p + "self_attn.v_proj.weight"].T).view(1, t, kv_heads, e).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin  # apply_rotary_pos_emb
        k = k * cos + rotate_half(k) * sin
        k, v = repeat_kv(k, heads // kv_heads), repeat_kv(v, heads // kv_heads)
        scores = q @ k.transpose(2, 3) / math.sqrt(e) + causal  # eager_attention_forward
        attended = torch.softmax(scores, dim=-1) @ v  # [1, H, T, E]
        x = x + attended.transpose(1, 2).reshape(1, t, heads * e) @ w[p + "self_attn.o_proj.weight"].T
        h = rms_norm(x, w[p + "post_attention_layernorm.weight"], eps)
        gated = torch.nn.functional.silu(h @ w[p + "mlp.gate_proj.weight"].T) * (h @ w[p + "mlp.up_proj.weight"].T)
        x = x + gated @ w[p + "mlp.down_proj.weight"].T  # LlamaMLP
    hidden = rms_norm(x, w["model.norm.weight"], eps)[0]
    return hidden @ w["lm_head.weight"].T, hidden


def write_safetensors(path, tensors):
    """The safetensors format: 8-byte little-endian header length, a JSON header (dtype, shape, data_offsets per
    tensor, padded with spaces to a multiple of 8), then the tensors' raw little-endian bytes."""
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        values = t.flatten().tolist()
        data = struct.pack(f"<{len(values)}f", *values)
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for data in blobs:
            f.write(data)


def rounded(t):
    # 8 significant digits: below float32's resolution, and a short file.
    return [[float(f"{value:.8g}") for value in row] for row in t.tolist()]


def main():
    folder = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tiny-llama")
    os.makedirs(folder, exist_ok=True)
    weights = make_weights(torch.Generator().manual_seed(20240613))
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(CONFIG, f, indent=2)
        f.write("\n")
    write_safetensors(os.path.join(folder, "model.safetensors"), weights)
    outputs = [forward(weights, ids) for ids in INPUT_IDS]
    reference = {
        "input_ids": INPUT_IDS,
        "logits": [rounded(logits) for logits, _ in outputs],
        "last_hidden_state": [rounded(hidden) for _, hidden in outputs],
    }
    with open(os.path.join(folder, "reference.json"), "w") as f:
        json.dump(reference, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
