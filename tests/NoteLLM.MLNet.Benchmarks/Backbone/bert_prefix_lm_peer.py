"""PyTorch peer of the `encoder` benchmark: the same BERT prefix-LM (all-MiniLM-L6-v2 shape, random weights), the
same batch shapes and mask, timed the same way. Run by the benchmark; prints one "name seconds" line per measurement.

Needs Debian's python3-torch with OpenBLAS (apt-get install python3-torch libopenblas0-pthread): Debian's torch
otherwise calls the reference BLAS and is ~20x slower. Usage: python3 bert_prefix_lm_peer.py BATCH TOKENS STEPS
"""
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(2)
VOCAB, HIDDEN, LAYERS, HEADS, FFN, POSITIONS = 30523, 384, 6, 12, 1536, 512


class Layer(nn.Module):
    def __init__(self):
        super().__init__()
        self.query, self.key, self.value = (nn.Linear(HIDDEN, HIDDEN) for _ in range(3))
        self.attention_output, self.attention_norm = nn.Linear(HIDDEN, HIDDEN), nn.LayerNorm(HIDDEN, eps=1e-12)
        self.intermediate, self.output = nn.Linear(HIDDEN, FFN), nn.Linear(FFN, HIDDEN)
        self.output_norm = nn.LayerNorm(HIDDEN, eps=1e-12)

    def forward(self, x, mask):  # x [B, T, D], mask [B, 1, T, T] additive
        b, t, _ = x.shape
        heads = lambda y: y.view(b, t, HEADS, HIDDEN // HEADS).transpose(1, 2)  # [B, H, T, E]
        q, k, v = heads(self.query(x)), heads(self.key(x)), heads(self.value(x))
        scores = q @ k.transpose(-1, -2) / (HIDDEN // HEADS) ** 0.5 + mask
        attended = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, t, HIDDEN)
        x = self.attention_norm(x + self.attention_output(attended))  # post-LN, as BERT
        return self.output_norm(x + self.output(F.gelu(self.intermediate(x))))


class BertPrefixLM(nn.Module):
    def __init__(self):
        super().__init__()
        self.words, self.positions, self.types = nn.Embedding(VOCAB, HIDDEN), nn.Embedding(POSITIONS, HIDDEN), nn.Embedding(2, HIDDEN)
        self.norm = nn.LayerNorm(HIDDEN, eps=1e-12)
        self.layers = nn.ModuleList(Layer() for _ in range(LAYERS))

    def forward(self, ids, prompt_ends=None):
        b, t = ids.shape
        positions = torch.arange(t).unsqueeze(0)
        x = self.norm(self.words(ids) + self.positions(positions) + self.types(torch.zeros_like(ids)))
        if prompt_ends is None:
            mask = torch.zeros(b, 1, t, t)
        else:  # key visible when it is not after the query, or inside the bidirectional prompt
            key, query = torch.arange(t).view(1, 1, t), torch.arange(t).view(1, t, 1)
            visible = (key <= query) | (key < prompt_ends.view(b, 1, 1))
            mask = torch.zeros(b, t, t).masked_fill(~visible, float("-inf")).unsqueeze(1)
        for layer in self.layers:
            x = layer(x, mask)
        return x


def main():
    batch, tokens, steps = (int(a) for a in sys.argv[1:4])
    torch.manual_seed(0)
    model = BertPrefixLM()
    ids = torch.randint(0, 30000, (batch, tokens))
    ends = torch.full((batch,), tokens - 20)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)

    def timed(name, step):
        step()
        start = time.perf_counter()
        for _ in range(steps):
            step()
        print(f"{name} {(time.perf_counter() - start) / steps:.4f}", flush=True)

    def no_grad(prefix):
        with torch.no_grad():
            model(ids, ends if prefix else None)

    def train_step(adamw):
        optimizer.zero_grad()
        model(ids, ends).mean().backward()
        if adamw:
            optimizer.step()

    timed("forward-bidirectional", lambda: no_grad(False))
    timed("forward-prefix", lambda: no_grad(True))
    timed("forward-backward-prefix", lambda: train_step(False))
    timed("adamw", lambda: train_step(True))


if __name__ == "__main__":
    main()
