using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NoteLLM.MLNet.Benchmarks.Backbone;

/// <summary>
/// The reference the package's decoder is measured against: the same LLaMA computation written the shortest
/// way with stock TorchSharp modules (nn.Linear, causal sdpa, rotary tables built once), no options, no
/// checkpoint names. The package must not be slower than this.
/// </summary>
internal sealed class BareLlama : nn.Module<Tensor, Tensor>
{
    private sealed class Block : nn.Module<Tensor, Tensor>
    {
        private readonly Linear q, k, v, o, gate, up, down;
        private readonly Parameter n1, n2;
        private readonly int heads, headDim;
        public Tensor? Cos, Sin;

        public Block(int d, int ffn, int heads) : base("block")
        {
            this.heads = heads; headDim = d / heads;
            q = nn.Linear(d, d, hasBias: false); k = nn.Linear(d, d, hasBias: false); v = nn.Linear(d, d, hasBias: false); o = nn.Linear(d, d, hasBias: false);
            gate = nn.Linear(d, ffn, hasBias: false); up = nn.Linear(d, ffn, hasBias: false); down = nn.Linear(ffn, d, hasBias: false);
            n1 = new Parameter(ones(d)); n2 = new Parameter(ones(d));
            RegisterComponents();
        }

        private static Tensor Norm(Tensor x, Tensor w) => w * (x * rsqrt(x.pow(2).mean([-1], keepdim: true) + 1e-6));

        private Tensor Rope(Tensor x)
        {
            long half = headDim / 2;
            return x * Cos! + cat([x.narrow(-1, half, half).neg(), x.narrow(-1, 0, half)], -1) * Sin!;
        }

        public override Tensor forward(Tensor x)
        {
            long b = x.shape[0], t = x.shape[1];
            var h = Norm(x, n1);
            var qh = Rope(q.forward(h).view(b, t, heads, headDim).transpose(1, 2));
            var kh = Rope(k.forward(h).view(b, t, heads, headDim).transpose(1, 2));
            var vh = v.forward(h).view(b, t, heads, headDim).transpose(1, 2);
            var a = nn.functional.scaled_dot_product_attention(qh, kh, vh, is_casual: true).transpose(1, 2).reshape(b, t, -1);
            x = x + o.forward(a);
            h = Norm(x, n2);
            return x + down.forward(nn.functional.silu(gate.forward(h)) * up.forward(h));
        }
    }

    private readonly Embedding embed;
    private readonly ModuleList<Block> blocks;
    private readonly Parameter norm;
    private readonly Linear head;
    private readonly int headDim;

    public BareLlama(int vocab, int d, int layers, int ffn, int heads) : base("bare")
    {
        embed = nn.Embedding(vocab, d);
        blocks = new ModuleList<Block>(Enumerable.Range(0, layers).Select(_ => new Block(d, ffn, heads)).ToArray());
        norm = new Parameter(ones(d));
        head = nn.Linear(d, vocab, hasBias: false);
        headDim = d / heads;
        RegisterComponents();
    }

    /// <summary>Hidden states [B, T, D] after the final norm.</summary>
    public Tensor Hidden(Tensor ids)
    {
        long t = ids.shape[1];
        var inv = tensor(Enumerable.Range(0, headDim / 2).Select(i => (float)(1.0 / Math.Pow(10000, 2.0 * i / headDim))).ToArray());
        var freqs = arange(t, dtype: float32).unsqueeze(1) * inv;
        var emb = cat([freqs, freqs], -1);
        var dtype = embed.weight!.dtype;
        foreach (var blk in blocks) { blk.Cos = emb.cos().to(dtype); blk.Sin = emb.sin().to(dtype); }
        var x = embed.forward(ids);
        foreach (var blk in blocks) x = blk.forward(x);
        return norm * (x * rsqrt(x.pow(2).mean([-1], keepdim: true) + 1e-6));
    }

    public Tensor Logits(Tensor hidden) => head.forward(hidden);

    public override Tensor forward(Tensor ids) => Logits(Hidden(ids));
}
