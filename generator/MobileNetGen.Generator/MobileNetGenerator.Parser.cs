using System.Collections.Generic;
using System.Linq;
using System.Threading;
using MobileNetGen.Generator.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace MobileNetGen.Generator
{
    public sealed partial class MobileNetGenerator
    {
        /// <summary>Turns one [MobileNet] class into a <see cref="ClassRequest"/> (or diagnostics), reading only syntax and symbols of that class.</summary>
        internal static class Parser
        {
            public static ParsedClass Parse(GeneratorAttributeSyntaxContext context, CancellationToken ct)
            {
                var symbol = (INamedTypeSymbol)context.TargetSymbol;
                var syntax = (ClassDeclarationSyntax)context.TargetNode;
                var location = LocationInfo.From(syntax.Identifier.GetLocation());
                var diagnostics = new List<DiagnosticInfo>();
                void Report(DiagnosticDescriptor d, params string[] args) =>
                    diagnostics.Add(DiagnosticInfo.Create(d, location, args));

                string? problem = ClassProblem(symbol, syntax);
                if (problem != null)
                {
                    Report(DiagnosticDescriptors.InvalidClass, symbol.Name, problem);
                    return new ParsedClass(null, location, new EquatableArray<DiagnosticInfo>(diagnostics.ToArray()));
                }

                var attribute = context.Attributes[0];
                string? variant = attribute.ConstructorArguments.Length == 1 ? attribute.ConstructorArguments[0].Value as string : null;
                string? weights = null;
                bool synthetic = false;
                foreach (var named in attribute.NamedArguments)
                {
                    switch (named.Key)
                    {
                        case "Weights": weights = named.Value.Value as string; break;
                        case "Synthetic": synthetic = named.Value.Value is bool b && b; break;
                    }
                }
                if (variant == null)
                {
                    Report(DiagnosticDescriptors.UnknownVariant, "(null)");
                    return new ParsedClass(null, location, new EquatableArray<DiagnosticInfo>(diagnostics.ToArray()));
                }
                if (weights != null && (weights.Length == 0 || weights.IndexOfAny(new[] { '/', '\\', ':' }) >= 0))
                {
                    Report(DiagnosticDescriptors.UnsupportedOption, symbol.Name, $"Weights = \"{weights}\" must be a file stem such as mobilenet_v1_0.25_224, not a path");
                    return new ParsedClass(null, location, new EquatableArray<DiagnosticInfo>(diagnostics.ToArray()));
                }
                if (weights != null && synthetic)
                {
                    Report(DiagnosticDescriptors.UnsupportedOption, symbol.Name, "Weights and Synthetic = true cannot be combined: synthetic weights come from a seed, not a file");
                    return new ParsedClass(null, location, new EquatableArray<DiagnosticInfo>(diagnostics.ToArray()));
                }

                string? ns = symbol.ContainingNamespace.IsGlobalNamespace ? null : symbol.ContainingNamespace.ToDisplayString();
                string accessibility = symbol.DeclaredAccessibility == Accessibility.Public ? "public" : "internal";
                var request = new ClassRequest(ns, symbol.Name, accessibility, variant, weights, synthetic);
                return new ParsedClass(request, location, new EquatableArray<DiagnosticInfo>(diagnostics.ToArray()));
            }

            /// <summary>A <c>[MobileNetSsd("entry")]</c> class → a <see cref="DetectorRequest"/> (or diagnostics).</summary>
            public static ParsedDetector ParseDetector(GeneratorAttributeSyntaxContext context, CancellationToken ct)
            {
                var symbol = (INamedTypeSymbol)context.TargetSymbol;
                var syntax = (ClassDeclarationSyntax)context.TargetNode;
                var location = LocationInfo.From(syntax.Identifier.GetLocation());
                ParsedDetector Fail(DiagnosticDescriptor d, params string[] args) =>
                    new ParsedDetector(null, location, new EquatableArray<DiagnosticInfo>(new[] { DiagnosticInfo.Create(d, location, args) }));
                string? problem = ClassProblem(symbol, syntax);
                if (problem != null) return Fail(DiagnosticDescriptors.InvalidClass, symbol.Name, problem);
                var attribute = context.Attributes[0];
                string? weights = attribute.ConstructorArguments.Length == 1 ? attribute.ConstructorArguments[0].Value as string : null;
                if (string.IsNullOrWhiteSpace(weights) || weights!.IndexOfAny(new[] { '/', '\\', ':' }) >= 0)
                    return Fail(DiagnosticDescriptors.UnsupportedOption, symbol.Name,
                        $"[MobileNetSsd(\"{weights}\")] needs the detector's weights entry, a file stem such as ssd_mobilenet_v1_0.75_300_coco_quant (not a path)");
                string? ns = symbol.ContainingNamespace.IsGlobalNamespace ? null : symbol.ContainingNamespace.ToDisplayString();
                string accessibility = symbol.DeclaredAccessibility == Accessibility.Public ? "public" : "internal";
                return new ParsedDetector(new DetectorRequest(ns, symbol.Name, accessibility, weights.Trim()), location, EquatableArray<DiagnosticInfo>.Empty);
            }

            /// <summary>Why a class cannot receive a generated network, or null when it can.</summary>
            private static string? ClassProblem(INamedTypeSymbol symbol, ClassDeclarationSyntax syntax)
            {
                if (!syntax.Modifiers.Any(SyntaxKind.PartialKeyword)) return "it is not declared partial";
                if (symbol.ContainingType != null) return "it is nested in another type";
                if (symbol.IsGenericType) return "it is generic";
                if (symbol.IsStatic) return "it is static";
                if (symbol.IsAbstract) return "it is abstract";
                if (symbol.BaseType != null && symbol.BaseType.SpecialType != SpecialType.System_Object)
                    return $"it derives from {symbol.BaseType.ToDisplayString()} (the generator supplies the base class)";
                return null;
            }
        }
    }
}
