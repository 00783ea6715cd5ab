namespace Streaming.Fuzz;

/// <summary>
/// A parser returned, or threw only what it documents, yet broke a property its target checks: a decoded value
/// that does not encode back to its bytes, a cutter that disagrees with the codec, or more memory allocated than
/// the input can justify. Like any undocumented exception, it is a crash.
/// </summary>
public sealed class ContractViolationException(string message) : Exception(message);
