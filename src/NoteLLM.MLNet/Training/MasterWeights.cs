using NoteLLM.MLNet.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NoteLLM.MLNet.Training;

/// <summary>
/// Mixed-precision training the standard way (Micikevicius et al. 2018, "Mixed Precision Training"; with bfloat16 as
/// in Kalamkar et al. 2019): the network computes in its own precision while the optimizer updates float32 master
/// copies of its trainable parameters, so an update smaller than a bfloat16 step (3e-6 on a weight of 0.1 is under
/// a hundredth of one) accumulates instead of being rounded away. Gradients are summed in float32 after every backward
/// pass, the optimizer state lives with the masters, and the masters are rounded into the network after each step.
/// A float32 parameter is its own master, so a float32 network trains exactly as without this class.
/// </summary>
internal sealed class MasterWeights : IDisposable
{
    private readonly List<(Parameter Network, Parameter Master)> copies = [];

    public MasterWeights(IReadOnlyList<Parameter> trainable)
    {
        var parameters = new List<Parameter>(trainable.Count);
        using (no_grad())
            foreach (var parameter in trainable)
            {
                if (parameter.dtype == ScalarType.Float32) { parameters.Add(parameter); continue; }
                using var detached = parameter.detach();
                var master = new Parameter(detached.to(ScalarType.Float32, copy: true));
                copies.Add((parameter, master));
                parameters.Add(master);
            }
        Parameters = parameters;
    }

    /// <summary>What the optimizer updates: the float32 masters, in the order of the trainable parameters.</summary>
    public IReadOnlyList<Parameter> Parameters { get; }

    /// <summary>The float32 tensor standing for <paramref name="parameter"/> in a loss computed in float32 (tau, the
    /// log-scale of the contrastive similarities): its master, whose gradient then needs no copy.</summary>
    public Tensor InFloat32(Parameter parameter) => copies.Find(c => c.Network.Handle == parameter.Handle).Master ?? parameter;

    /// <summary>Adds the network's gradients to the masters' in float32 and clears them; after every backward pass.</summary>
    public void AccumulateGradients()
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        foreach (var (network, master) in copies)
        {
            if (network.grad is not Tensor gradient) continue;
            if (master.grad is Tensor sum) sum.add_(gradient, HeldScalars.One); // held alpha: see HeldScalars
            else master.grad = gradient.to(ScalarType.Float32, copy: true);
            network.grad = null;
        }
    }

    /// <summary>Rounds the masters into the network's parameters; after every optimizer step.</summary>
    public void CopyToNetwork()
    {
        using var _ = no_grad();
        foreach (var (network, master) in copies) network.copy_(master);
    }

    /// <summary>Whether any parameter has a master of its own (the network is not float32).</summary>
    public bool AreCopies => copies.Count > 0;

    public void Save(BinaryWriter writer)
    {
        foreach (var (_, master) in copies) TensorExtensionMethods.Save(master, writer);
    }

    public void Load(BinaryReader reader)
    {
        foreach (var (_, master) in copies) TensorExtensionMethods.Load(master, reader);
    }

    public void Dispose()
    {
        foreach (var (_, master) in copies) master.Dispose();
    }
}
