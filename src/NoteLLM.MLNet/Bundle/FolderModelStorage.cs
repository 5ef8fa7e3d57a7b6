using NoteLLM.MLNet.Data;

namespace NoteLLM.MLNet.Bundle;

/// <summary>Model files in a folder. Each file is written beside its final name and moved in when complete.</summary>
public sealed class FolderModelStorage(string folder) : IModelFileSink, IModelFileSource
{
    public string Folder { get; } = folder;

    public void Write(string name, Action<Stream> write)
    {
        string path = PathOf(name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        AtomicFile.Write(path, write);
    }

    public T Read<T>(string name, Func<Stream, T> read)
    {
        string path = PathOf(name);
        if (!File.Exists(path)) throw new FileNotFoundException($"The saved model in '{Folder}' has no '{name}'.", path);
        using var f = File.OpenRead(path);
        return read(f);
    }

    private string PathOf(string name) => Path.Combine(Folder, name.Replace('/', Path.DirectorySeparatorChar));
}
