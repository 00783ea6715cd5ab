namespace Streaming.Sessions;

/// <summary>
/// The effects of one decision: a small list that allocates nothing for the one or two effects a token needs.
/// </summary>
internal struct EffectList
{
    private SessionEffect? _first;
    private SessionEffect? _second;
    private List<SessionEffect>? _more;

    public readonly int Count => _first is null ? 0 : _second is null ? 1 : 2 + (_more?.Count ?? 0);

    public readonly SessionEffect this[int index] => index switch
    {
        0 when _first is not null => _first,
        1 when _second is not null => _second,
        _ when index >= 2 && _more is not null && index - 2 < _more.Count => _more[index - 2],
        _ => throw new ArgumentOutOfRangeException(nameof(index), index, $"the decision has {Count} effect(s)."),
    };

    public void Add(SessionEffect effect)
    {
        if (_first is null)
        {
            _first = effect;
        }
        else if (_second is null)
        {
            _second = effect;
        }
        else
        {
            (_more ??= []).Add(effect);
        }
    }

    public readonly SessionEffect[] ToArray()
    {
        var all = new SessionEffect[Count];
        for (var i = 0; i < all.Length; i++)
        {
            all[i] = this[i];
        }

        return all;
    }

    public override readonly string ToString() => string.Join(", ", ToArray().Select(e => e.GetType().Name));
}
