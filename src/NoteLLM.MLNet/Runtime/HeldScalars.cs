using TorchSharp;
using static TorchSharp.torch;

namespace NoteLLM.MLNet.Runtime;

/// <summary>
/// Numbers handed to libtorch as scalars that stay alive for the whole call. TorchSharp turns a number passed to a
/// tensor operation (<c>x * 0.5</c>, <c>x.masked_fill(m, -1e38)</c>) into a <see cref="Scalar"/> whose finalizer frees
/// its native value, while the native call holds only the raw handle; <c>a + b</c> and <c>a - b</c> of two tensors pass
/// such a temporary Scalar too, as the alpha of add and sub. When a garbage collection on another thread (a background GC, a
/// server's other requests) finalizes that Scalar during the call, libtorch reads freed memory and throws "Unknown
/// scalar type" or "Expected false to be true", or computes with whatever the memory now holds. Measured with a thread
/// running GC.Collect beside 10 s of calls: masked_fill with a number failed 393 times in 52,788 calls, <c>x * 0.5</c>
/// 22 times in 239,338, with a held Scalar never. So every number this library passes to a tensor operation is a
/// Scalar held by a field or a <c>using</c>, and tensors are added with <see cref="Plus(Tensor, Tensor)"/> (the upstream
/// fix, disposing the implicitly created Scalars, is proposed in dotnet/TorchSharp pull requests 1434 and 1496).
/// </summary>
internal static class HeldScalars
{
    // Static fields: rooted for the life of the process, never finalized.
    public static readonly Scalar Zero = 0.ToScalar(), One = 1.ToScalar(), NegativeInfinity = double.NegativeInfinity.ToScalar();

    /// <summary><paramref name="a"/> + <paramref name="b"/> with a held alpha.</summary>
    public static Tensor Plus(this Tensor a, Tensor b) => a.add(b, One);

    /// <summary><paramref name="a"/> + <paramref name="b"/> with a held alpha.</summary>
    public static Tensor Plus(this Tensor a, Scalar b) => a.add(b, One);
}
