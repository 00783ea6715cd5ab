using Streaming.Cells.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace Streaming.Generators.Training;

/// <summary>
/// The trained wrapper module, as a PyTorch user would write it:
/// <code>
/// class CharLanguageModel(nn.Module):
///     def __init__(self):
///         self.embedding = nn.Embedding(vocab, embedding_dim)
///         self.rnn = nn.LSTM(embedding_dim, hidden_size, num_layers, dropout=dropout)
///         self.head = nn.Linear(hidden_size, vocab)
/// </code>
/// Its state_dict names are <c>embedding.weight</c>, <c>rnn.weight_ih_l0</c>, ..., <c>head.bias</c>: the key prefixes
/// of <see cref="Spec"/>, so the served model loads the exported weights as they are.
/// </summary>
internal sealed class CharLanguageModel : nn.Module<Tensor, (Tensor H, Tensor C), (Tensor Logits, (Tensor H, Tensor C) State)>
{
    // The field names are the state_dict's prefixes (RegisterComponents names each module after its field).
#pragma warning disable IDE1006, SA1306
    private readonly TorchSharp.Modules.Embedding embedding;
    private readonly TorchSharp.Modules.LSTM rnn;
    private readonly TorchSharp.Modules.Linear head;
#pragma warning restore IDE1006, SA1306

    /// <summary>Builds the modules in constructor order (embedding, rnn, head), each with PyTorch's default initialisation.</summary>
    public CharLanguageModel(ModelSpec spec, double dropout) : base(nameof(CharLanguageModel))
    {
        var r = spec.Recurrent;
        var e = spec.Embedding ?? throw new ArgumentException("a character model needs an embedding.", nameof(spec));
        var h = spec.Head ?? throw new ArgumentException("a character model needs a head.", nameof(spec));
        Spec = spec;
        embedding = nn.Embedding(e.NumEmbeddings, e.EmbeddingDim);
        rnn = nn.LSTM(r.InputSize, r.HiddenSize, r.NumLayers, r.Bias, dropout: dropout);
        head = nn.Linear(r.HiddenSize, h.OutFeatures, h.Bias);
        RegisterComponents();
    }

    /// <summary>What the exported manifest describes: no dropout (inactive at inference) and the field names as prefixes.</summary>
    public ModelSpec Spec { get; }

    /// <summary>
    /// Runs ids (sequence, batch) from state (h, c), each (num_layers, batch, hidden_size); returns the logits
    /// (sequence, batch, vocab) and the final state.
    /// </summary>
    public override (Tensor Logits, (Tensor H, Tensor C) State) forward(Tensor ids, (Tensor H, Tensor C) state)
    {
        var (y, h, c) = rnn.forward(embedding.forward(ids), state);
        return (head.forward(y), (h, c));
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            embedding.Dispose();
            rnn.Dispose();
            head.Dispose();
        }

        base.Dispose(disposing);
    }
}
