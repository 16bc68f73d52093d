namespace MobileNetGen.Importers;

/// <summary>
/// The source file cannot be imported: it is malformed, truncated, of an unsupported kind, or contradicts the options
/// (e.g. a <c>--variant</c> that does not match the model). The message says what and where.
/// </summary>
public sealed class ImportException : Exception
{
    public ImportException(string message) : base(message) { }
    public ImportException(string message, Exception inner) : base(message, inner) { }
}
