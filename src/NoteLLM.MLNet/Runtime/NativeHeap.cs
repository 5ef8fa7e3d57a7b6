using System.Runtime.InteropServices;

namespace NoteLLM.MLNet.Runtime;

/// <summary>
/// Returns freed native memory to the operating system. libtorch allocates CPU tensors with the C allocator; glibc
/// keeps large freed blocks in its heap (its mmap threshold grows after large frees), so the resident size of a
/// training loop with large temporaries can climb after warm-up without any leak. Trimming between steps gives that
/// memory back. A no-op where the C library is not glibc.
/// </summary>
public static class NativeHeap
{
    private static readonly bool Available = OperatingSystem.IsLinux() && Probe();

    /// <summary>Releases free heap memory to the OS (glibc <c>malloc_trim(0)</c>); true when anything was released.</summary>
    public static bool Trim() => Available && malloc_trim(UIntPtr.Zero) != 0;

    private static bool Probe()
    {
        try { malloc_trim(UIntPtr.Zero); return true; }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { return false; }
    }

    [DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int malloc_trim(UIntPtr pad);
}
