using NoteLLM.MLNet.Bundle;
using NoteLLM.MLNet.DataViews;

namespace NoteLLM.MLNet;

/// <summary>Writes a model's files into the transformer's folder of an ML.NET model zip.</summary>
internal sealed class ZipModelFileSink(ModelWriter writer, string folder) : IModelFileSink
{
    public void Write(string name, Action<Stream> write) => writer.WriteFile($"{folder}/{name}", write);
}
