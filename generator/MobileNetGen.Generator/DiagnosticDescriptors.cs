using Microsoft.CodeAnalysis;

namespace MobileNetGen.Generator
{
    /// <summary>Every diagnostic the generator reports (MNG0010 comes from the MSBuild weights step); the README lists them.</summary>
    internal static class DiagnosticDescriptors
    {
        private const string Category = "MobileNetGen";

        public static readonly DiagnosticDescriptor UnknownVariant = new DiagnosticDescriptor(
            "MNG0001", "Unknown MobileNet variant",
            "'{0}' is not a MobileNet v1 variant: use α_resolution with α in 1.0, 0.75, 0.50, 0.25 and resolution in 224, 192, 160, 128 (for example \"0.25_224\")",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        public static readonly DiagnosticDescriptor WeightsNotFound = new DiagnosticDescriptor(
            "MNG0002", "MobileNet weights not found",
            "No weights named '{0}' for variant {1}; add '{0}.safetensors' to the build as a MobileNetWeights item{2}",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        public static readonly DiagnosticDescriptor MalformedWeights = new DiagnosticDescriptor(
            "MNG0003", "Malformed MobileNet weights",
            "Weights file '{0}' cannot be read: {1}",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        public static readonly DiagnosticDescriptor ShapeMismatch = new DiagnosticDescriptor(
            "MNG0004", "Weights do not match the architecture",
            "Weights '{0}' do not fit MobileNet v1 {1}: {2}",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        public static readonly DiagnosticDescriptor InvalidClass = new DiagnosticDescriptor(
            "MNG0005", "Invalid [MobileNet] class",
            "Class '{0}' must be a top-level, non-generic, non-static partial class without a base class to receive a MobileNet: {1}",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        public static readonly DiagnosticDescriptor UnsupportedOption = new DiagnosticDescriptor(
            "MNG0006", "Unsupported [MobileNet] option",
            "Unsupported option on '{0}': {1}",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        public static readonly DiagnosticDescriptor SyntheticWeights = new DiagnosticDescriptor(
            "MNG0007", "Synthetic weights",
            "'{0}' uses SYNTHETIC weights for {1} (SplitMix64 seed {2}): fit for speed and size measurements, not for classifying images",
            Category, DiagnosticSeverity.Info, isEnabledByDefault: true);

        public static readonly DiagnosticDescriptor DuplicateWeights = new DiagnosticDescriptor(
            "MNG0008", "Duplicate MobileNet weights",
            "Two weights files are named '{0}' ({1} and {2}): the first is used",
            Category, DiagnosticSeverity.Warning, isEnabledByDefault: true);

        public static readonly DiagnosticDescriptor InvalidBuildProperty = new DiagnosticDescriptor(
            "MNG0011", "Invalid MobileNetGen build property",
            "MSBuild property {0} = '{1}' is not valid: {2}",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        public static readonly DiagnosticDescriptor InternalError = new DiagnosticDescriptor(
            "MNG0009", "MobileNetGen internal error",
            "MobileNetGen could not generate '{0}': {1}. Please report this with the weights file.",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true);
    }
}
