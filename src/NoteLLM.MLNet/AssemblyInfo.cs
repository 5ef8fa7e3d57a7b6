using System.Runtime.CompilerServices;

// The library compiles against publicized Microsoft.ML.Core/Data (tools/MLNetPublicizer) to save and load
// its transformer inside ML.NET model zips; these attributes let the runtime allow those accesses
// (the technique of github.com/aelij/IgnoresAccessChecksToGenerator). Without them: MethodAccessException, and
// [LoadableClass] is silently dropped.
[assembly: IgnoresAccessChecksTo("Microsoft.ML.Core")]
[assembly: IgnoresAccessChecksTo("Microsoft.ML.Data")]

namespace System.Runtime.CompilerServices;

/// <summary>
/// Read by the .NET runtime (by name): the assembly carrying it may access non-public members of the
/// named assembly. Not part of the public BCL surface, so each assembly that needs it declares it.
/// </summary>
[AttributeUsage(AttributeTargets.Assembly, AllowMultiple = true)]
internal sealed class IgnoresAccessChecksToAttribute : Attribute
{
    public IgnoresAccessChecksToAttribute(string assemblyName) => AssemblyName = assemblyName;

    /// <summary>The simple name of the assembly whose non-public members may be accessed.</summary>
    public string AssemblyName { get; }
}
