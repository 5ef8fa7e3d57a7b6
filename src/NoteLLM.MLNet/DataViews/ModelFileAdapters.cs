using NoteLLM.MLNet.Modeling;

namespace NoteLLM.MLNet.DataViews;

/// <summary>Writes a model's files into the transformer's folder of an ML.NET model zip.</summary>
internal sealed class ZipModelFileSink(ModelWriter writer, string folder) : IModelFileSink
{
    public void Write(string name, Action<Stream> write) => writer.WriteFile($"{folder}/{name}", write);
}

/// <summary>Reads a model's files from the transformer's folder of an ML.NET model zip.</summary>
internal sealed class ZipModelFileSource(ModelReader reader, string folder) : IModelFileSource
{
    public T Read<T>(string name, Func<Stream, T> read) => reader.ReadFile($"{folder}/{name}", read);
}
