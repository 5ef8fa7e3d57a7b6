namespace NoteLLM.MLNet.Modeling;

/// <summary>Where a note's embedding is read from the last layer's hidden states of its prompt.</summary>
public enum EmbeddingReadout
{
    /// <summary>The token immediately before [EMB], the token that predicts it (the paper, section 3.2).</summary>
    TokenBeforeEmb,
    /// <summary>The [EMB] token itself.</summary>
    EmbToken,
    /// <summary>The mean over the note's own tokens, the filled note template (the pooling all-MiniLM-L6-v2 was trained with).</summary>
    MeanPooling,
    /// <summary>The prompt's first token, [CLS] for BERT (the pooling snowflake-arctic-embed was trained with); bidirectional backbones only.</summary>
    FirstToken,
}
