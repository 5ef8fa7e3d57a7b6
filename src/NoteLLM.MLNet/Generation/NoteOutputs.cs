namespace NoteLLM.MLNet.Generation;

/// <summary>Which outputs to compute per note; embedding-only inference needs no decoding and is much cheaper.</summary>
[Flags]
public enum NoteOutputs { None = 0, Embedding = 1, Category = 2, Hashtags = 4, All = Embedding | Category | Hashtags }
