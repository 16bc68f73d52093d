using System;
using System.Collections.Generic;
using MobileNetGen.Generator.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

namespace MobileNetGen.Generator
{
    public sealed partial class MobileNetGenerator
    {
        /// <summary>
        /// The app's MSBuild choices (build/MobileNetGen.props makes them visible to the compiler):
        /// <list type="bullet">
        /// <item><c>MobileNetVariant</c>: declares a classifier without code (class <c>MobileNetClassName</c>, default
        /// <c>MobileNetModel</c>, in the project's <c>RootNamespace</c>; weights <c>MobileNetWeightsName</c> or the variant's default,
        /// or <c>MobileNetSynthetic</c> = true for synthetic weights).</item>
        /// <item><c>MobileNetThreads</c>: the default thread count of every generated classifier (a number, or <c>auto</c> for
        /// one per processor); <see cref="Runtime"/>'s <c>MobileNetOptions.Threads</c> still overrides it per instance.</item>
        /// <item><c>MobileNetIncludeLabels</c>: <c>false</c> embeds no label text for custom heads (labels read "class N").</item>
        /// </list>
        /// Bad values are MNG0011, reported without a source location.
        /// </summary>
        internal static class BuildSettingsReader
        {
            public const string Variant = "MobileNetVariant";
            public const string ClassName = "MobileNetClassName";
            public const string WeightsName = "MobileNetWeightsName";
            public const string Threads = "MobileNetThreads";
            public const string IncludeLabels = "MobileNetIncludeLabels";
            public const string Synthetic = "MobileNetSynthetic";

            private const int AutoThreads = BuildSettings.AutoThreads;
            private const int MaxThreads = MobileNetGen.Model.KernelContract.MaxThreads;

            public static BuildSettings Read(AnalyzerConfigOptions options)
            {
                string? Get(string name) =>
                    options.TryGetValue("build_property." + name, out var v) && !string.IsNullOrWhiteSpace(v) ? v.Trim() : null;
                var problems = new List<DiagnosticInfo>();
                void Problem(string property, string value, string why) =>
                    problems.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidBuildProperty, null, property, value, why));

                int threads = 1;
                string? threadsText = Get(Threads);
                if (threadsText != null)
                {
                    if (string.Equals(threadsText, "auto", StringComparison.OrdinalIgnoreCase)) threads = AutoThreads;
                    else if (!int.TryParse(threadsText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out threads)
                             || threads < 1 || threads > MaxThreads)
                    {
                        Problem(Threads, threadsText, $"use a whole number from 1 to {MaxThreads}, or auto (one thread per processor)");
                        threads = 1;
                    }
                }

                bool includeLabels = true;
                string? labelsText = Get(IncludeLabels);
                if (labelsText != null && !bool.TryParse(labelsText, out includeLabels))
                {
                    Problem(IncludeLabels, labelsText, "use true or false");
                    includeLabels = true;
                }

                ClassRequest? request = null;
                string? variant = Get(Variant);
                if (variant != null)
                {
                    string className = Get(ClassName) ?? "MobileNetModel";
                    string? ns = Get("RootNamespace");
                    string? weights = Get(WeightsName);
                    bool synthetic = false;
                    string? syntheticText = Get(Synthetic);
                    if (syntheticText != null && !bool.TryParse(syntheticText, out synthetic))
                        Problem(Synthetic, syntheticText, "use true or false");
                    else if (synthetic && weights != null)
                        Problem(Synthetic, syntheticText!, "MobileNetWeightsName and MobileNetSynthetic = true cannot be combined: synthetic weights come from a seed, not a file");
                    else if (!SyntaxFacts.IsValidIdentifier(className))
                        Problem(ClassName, className, "it is not a C# identifier");
                    else if (ns != null && !IsNamespace(ns))
                        Problem("RootNamespace", ns, "it is not a C# namespace name (the MobileNetVariant class goes there)");
                    else if (weights != null && weights.IndexOfAny(new[] { '/', '\\', ':' }) >= 0)
                        Problem(WeightsName, weights, "it must be a file stem such as mobilenet_v1_0.25_224, not a path");
                    else
                        request = new ClassRequest(ns, className, "public", variant, weights, synthetic);
                }
                else if (Get(ClassName) is string orphan)
                    Problem(ClassName, orphan, "it names the class that MobileNetVariant declares, and MobileNetVariant is not set");

                return new BuildSettings(request, threads, includeLabels, new EquatableArray<DiagnosticInfo>(problems.ToArray()));
            }

            private static bool IsNamespace(string ns)
            {
                foreach (string part in ns.Split('.'))
                    if (!SyntaxFacts.IsValidIdentifier(part)) return false;
                return true;
            }
        }
    }
}
