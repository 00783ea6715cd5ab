using Streaming.Client.Protocol;

namespace Streaming.Client;

/// <summary>A replay waiting for ReplayOutputs frames until they cover every step it sent.</summary>
internal sealed class PendingReplay : PendingRequest
{
    private readonly string _session;
    private readonly int _steps;
    private readonly List<ReadOnlyMemory<float>> _outputs;
    private readonly TaskCompletionSource<ReplayReply> _result = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _firstPosition = -1;

    public PendingReplay(string session, int steps)
    {
        _session = session;
        _steps = steps;
        _outputs = new List<ReadOnlyMemory<float>>(steps);
    }

    public Task<ReplayReply> Task => _result.Task;

    public override bool Accept(Frame frame)
    {
        if (frame is not ReplayOutputsFrame part)
        {
            _result.TrySetException(new StreamingClientException(0, $"the server answered a replay with a {frame.Type} frame; expected ReplayOutputs.", _session));
            return true;
        }

        if (_firstPosition < 0)
        {
            _firstPosition = part.Position;
        }

        for (var s = 0; s < part.Steps; s++)
        {
            _outputs.Add(part.Outputs.Slice(s * part.Width, part.Width));
        }

        if (_outputs.Count < _steps)
        {
            return false;
        }

        _result.TrySetResult(new ReplayReply(_session, _firstPosition + _outputs.Count, _outputs));
        return true;
    }

    public override void Fail(Exception error) => _result.TrySetException(error);

    public override void Cancel(CancellationToken cancellationToken) => _result.TrySetCanceled(cancellationToken);
}
