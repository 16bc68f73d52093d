using Xunit;

namespace MobileNetGen.Tests.Generated;

/// <summary>A theory that needs the <c>shared/</c> data folder: reported as skipped (with the reason) when it is absent.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class SharedDataTheoryAttribute : TheoryAttribute
{
    public SharedDataTheoryAttribute()
    {
        if (SharedData.Root == null)
            Skip = "needs the shared/ data folder (../shared with shared/models and shared/images) next to an ancestor of the test binaries; not found";
    }
}
