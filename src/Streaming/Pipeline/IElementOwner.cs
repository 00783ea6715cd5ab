namespace Streaming.Pipeline;

/// <summary>Whoever sent an element: the pipeline's reply lane hands the element back to it once it has left the last stage.</summary>
internal interface IElementOwner
{
    /// <summary>
    /// <paramref name="element"/> has left the last stage, with its results written into it. Called by the reply
    /// lane on the thread pool, one element at a time, each sender's elements in the order it wrote them.
    /// </summary>
    void Completed(Element element);
}
