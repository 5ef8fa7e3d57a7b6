"""PyTorch's own mixed precision against float32 for one AdamW step at lr 3e-6 (a tiny transformer, contrastive + LM loss).

Two standard bf16 recipes, both with float32 master weights and optimizer state:
  autocast: torch.autocast(bfloat16) forward, float32 parameters (the AMP recipe);
  copies:   a bfloat16 copy of the network computes forward and backward, gradients go to float32 masters.
Prints, for each, the relative error of the whole step against the float32 step, the cosine, the largest per-tensor
step-size error and the share of gradients whose sign differs from float32's."""
import copy, sys
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
V, D, L, B = 97, 32, 24, 8

class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(V, D)
        self.pos = nn.Embedding(L, D)
        layer = nn.TransformerEncoderLayer(D, 4, 2 * D + 8, dropout=0.0, batch_first=True, norm_first=False)
        self.enc = nn.TransformerEncoder(layer, 2)
        self.proj = nn.Linear(D, 16)
    def forward(self, ids):
        h = self.emb(ids) + self.pos(torch.arange(ids.shape[1]))
        mask = torch.triu(torch.full((ids.shape[1], ids.shape[1]), float("-inf")), 1)
        h = self.enc(h, mask=mask)
        return h, self.emb.weight

def loss_of(model, ids, related):
    h, out = model(torch.cat([ids, related]))
    z = F.normalize(model.proj(h[:, -1]).float(), dim=-1)
    a, b = z[:B], z[B:]
    cl = F.cross_entropy(a @ b.T * 20, torch.arange(B))
    logits = (h[:, :-1] @ out.T).float()
    gen = F.cross_entropy(logits.reshape(-1, V), torch.cat([ids, related])[:, 1:].reshape(-1))
    return (cl + 0.5 * gen) / 1.5

base = Tiny()
with torch.no_grad():
    for p in base.parameters(): p.copy_(p.to(torch.bfloat16).float())  # both runs start from bf16-representable weights
ids, related = torch.randint(0, V, (B, L)), torch.randint(0, V, (B, L))

def step(model, grads_from):
    start = [p.detach().clone() for p in model.parameters()]
    opt = torch.optim.AdamW(model.parameters(), lr=3e-6, weight_decay=0.01)
    grads = grads_from(model)
    for p, g in zip(model.parameters(), grads): p.grad = g
    opt.step()
    return [p.detach() - s for p, s in zip(model.parameters(), start)], grads

def f32_grads(model):
    model.zero_grad(); loss_of(model, ids, related).backward()
    return [p.grad.clone() for p in model.parameters()]

def autocast_grads(model):
    model.zero_grad()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss = loss_of(model, ids, related)
    loss.float().backward()
    return [p.grad.float().clone() for p in model.parameters()]

def copies_grads(model):
    compute = copy.deepcopy(model).to(torch.bfloat16)
    loss_of(compute, ids, related).backward()
    return [p.grad.float() for p in compute.parameters()]

ref_step, ref_grads = step(copy.deepcopy(base), f32_grads)
size = torch.sqrt(sum((d ** 2).sum() for d in ref_step))
print(f"torch {torch.__version__}; float32 step norm {size:.3e}")
for name, fn in [("autocast", autocast_grads), ("copies", copies_grads)]:
    s, g = step(copy.deepcopy(base), fn)
    diff = torch.sqrt(sum(((a - b) ** 2).sum() for a, b in zip(s, ref_step)))
    cos = sum((a * b).sum() for a, b in zip(s, ref_step)) / (size * torch.sqrt(sum((a ** 2).sum() for a in s)))
    per_tensor = max(abs(a.norm() - b.norm()) / b.norm() for a, b in zip(s, ref_step) if b.norm() > 0)
    flipped = sum((torch.sign(a) != torch.sign(b)).sum() for a, b in zip(g, ref_grads)) / sum(b.numel() for b in ref_grads)
    grad_rel = torch.sqrt(sum(((a - b) ** 2).sum() for a, b in zip(g, ref_grads)) / sum((b ** 2).sum() for b in ref_grads))
    print(f"{name:9s} step relative error {diff / size:.3f}, cosine {cos:.4f}, largest per-tensor size error {per_tensor:.4f}, "
          f"gradient relative error {grad_rel:.3f}, gradients with another sign {100 * flipped:.2f}% (2 x sqrt of it: {2 * flipped ** 0.5:.3f})")
