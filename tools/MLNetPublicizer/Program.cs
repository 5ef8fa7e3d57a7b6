// Writes "publicized" copies of .NET assemblies: every type, method and field becomes public, while the
// assembly identity (name, version, public key) stays the same. The copies are compile-time references
// only (as in github.com/aelij/IgnoresAccessChecksToGenerator): the build output keeps the genuine signed assemblies, and the
// compiled code reaches the internals at run time through [IgnoresAccessChecksTo].
//
// Usage: MLNetPublicizer <output folder> <assembly.dll>...
using Mono.Cecil;

if (args.Length < 2)
{
    Console.Error.WriteLine("Usage: MLNetPublicizer <output folder> <assembly.dll>...");
    return 2;
}

string outputDirectory = Path.GetFullPath(args[0]);
Directory.CreateDirectory(outputDirectory);
foreach (string inputPath in args.Skip(1))
{
    string outputPath = Path.Combine(outputDirectory, Path.GetFileName(inputPath));
    int changed = Publicizer.Publicize(inputPath, outputPath);
    Console.WriteLine($"MLNetPublicizer: {Path.GetFileName(inputPath)}: {changed} types and members made public -> {outputPath}");
}
return 0;

internal static class Publicizer
{
    /// <summary>Writes a publicized copy of <paramref name="inputPath"/> to <paramref name="outputPath"/>
    /// (through a temporary file, so an interrupted run leaves no half-written output).</summary>
    /// <returns>How many types and members were changed.</returns>
    public static int Publicize(string inputPath, string outputPath)
    {
        using var resolver = new DefaultAssemblyResolver();
        resolver.AddSearchDirectory(Path.GetDirectoryName(Path.GetFullPath(inputPath))!);
        using var module = ModuleDefinition.ReadModule(inputPath,
            new ReaderParameters { AssemblyResolver = resolver, InMemory = true, ReadSymbols = false });

        int changed = 0;
        foreach (TypeDefinition type in module.GetTypes())
            changed += PublicizeType(type);

        string tempPath = outputPath + ".tmp";
        module.Write(tempPath);
        File.Move(tempPath, outputPath, overwrite: true);
        return changed;
    }

    private static int PublicizeType(TypeDefinition type)
    {
        // Compiler-generated types and members (closures, backing fields, state machines) have
        // unspeakable names; leaving them alone avoids clashes such as an event and its backing field.
        if (IsCompilerGenerated(type.Name))
            return 0;

        int changed = 0;
        TypeAttributes visibility = type.IsNested ? TypeAttributes.NestedPublic : TypeAttributes.Public;
        if ((type.Attributes & TypeAttributes.VisibilityMask) != visibility)
        {
            type.Attributes = (type.Attributes & ~TypeAttributes.VisibilityMask) | visibility;
            changed++;
        }

        foreach (MethodDefinition method in type.Methods)
        {
            // Explicit interface implementations stay private: they are reached through the interface.
            bool explicitImplementation = method.HasOverrides && method.IsPrivate;
            if (method.IsPublic || explicitImplementation || IsCompilerGenerated(method.Name))
                continue;
            method.Attributes = (method.Attributes & ~MethodAttributes.MemberAccessMask) | MethodAttributes.Public;
            changed++;
        }

        var eventNames = new HashSet<string>(type.Events.Select(e => e.Name));
        foreach (FieldDefinition field in type.Fields)
        {
            // A field-like event's backing field has the event's name; making it public would make
            // every use of the event ambiguous.
            if (field.IsPublic || IsCompilerGenerated(field.Name) || eventNames.Contains(field.Name))
                continue;
            field.Attributes = (field.Attributes & ~FieldAttributes.FieldAccessMask) | FieldAttributes.Public;
            changed++;
        }
        return changed;
    }

    private static bool IsCompilerGenerated(string name) => name.Contains('<');
}
