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

                string? problem = null;
                if (!syntax.Modifiers.Any(SyntaxKind.PartialKeyword)) problem = "it is not declared partial";
                else if (symbol.ContainingType != null) problem = "it is nested in another type";
                else if (symbol.IsGenericType) problem = "it is generic";
                else if (symbol.IsStatic) problem = "it is static";
                else if (symbol.IsAbstract) problem = "it is abstract";
                else if (symbol.BaseType != null && symbol.BaseType.SpecialType != SpecialType.System_Object)
                    problem = $"it derives from {symbol.BaseType.ToDisplayString()} (the generator supplies the base class)";
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
        }
    }
}
