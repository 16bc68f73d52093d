using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Security.Cryptography;
using System.Text;
using MobileNetGen.Generator.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;

namespace MobileNetGen.Generator
{
    /// <summary>
    /// Generates a MobileNet v1 classifier for every <c>[MobileNet("α_res")] partial class</c>.
    /// Pipeline: <see cref="Parser"/> (class → <see cref="ClassRequest"/>) and the weights step (AdditionalFiles
    /// <c>*.safetensors.b64</c> → <see cref="WeightsSource"/>, compared by content hash) feed the <see cref="Planner"/>
    /// (fold and pack: the only expensive step, cached unless the request or the weights change), whose
    /// <see cref="NetworkPlan"/> the <see cref="Emitter"/> writes out. Diagnostics are reported separately, at the class.
    /// </summary>
    [Generator(LanguageNames.CSharp)]
    public sealed partial class MobileNetGenerator : IIncrementalGenerator
    {
        public const string AttributeName = "MobileNetGen.MobileNetAttribute";
        /// <summary>Suffix of the weights files the MSBuild step (build/MobileNetGen.targets) hands to the compiler.</summary>
        public const string WeightsSuffix = ".safetensors.b64";

        public static class TrackingNames
        {
            public const string Classes = "Classes";
            public const string Requests = "Requests";
            public const string Weights = "Weights";
            public const string Plans = "Plans";
            public const string Settings = "Settings";
        }

        public void Initialize(IncrementalGeneratorInitializationContext context)
        {
            var parsed = context.SyntaxProvider
                .ForAttributeWithMetadataName(AttributeName,
                    static (node, _) => node is ClassDeclarationSyntax,
                    static (ctx, ct) => Parser.Parse(ctx, ct))
                .WithTrackingName(TrackingNames.Classes);

            var requests = parsed
                .Where(static p => p.Request != null)
                .Select(static (p, _) => p.Request!)
                .WithTrackingName(TrackingNames.Requests);

            var weights = context.AdditionalTextsProvider
                .Where(static t => t.Path.EndsWith(WeightsSuffix, StringComparison.OrdinalIgnoreCase))
                .Select(static (t, ct) => LoadWeights(t, ct))
                .Collect()
                .WithTrackingName(TrackingNames.Weights);

            var plans = requests
                .Combine(weights)
                .Select(static (pair, ct) => Planner.Plan(pair.Left, pair.Right, ct))
                .WithTrackingName(TrackingNames.Plans);

            // The app's MSBuild properties: defaults for every class, and possibly one class declared without code.
            var settings = context.AnalyzerConfigOptionsProvider
                .Select(static (o, _) => BuildSettingsReader.Read(o.GlobalOptions))
                .WithTrackingName(TrackingNames.Settings);
            var msbuildPlan = settings
                .Select(static (s, _) => s.MsBuildClass)
                .Combine(weights)
                .Select(static (pair, ct) => pair.Left == null ? null : Planner.Plan(pair.Left, pair.Right, ct));

            // Output: the weights file depends on the plan only; the classifier file also on the settings (cheap to redo).
            context.RegisterSourceOutput(plans, static (spc, plan) => EmitWeights(spc, plan));
            context.RegisterSourceOutput(plans.Combine(settings), static (spc, pair) => EmitClassifier(spc, pair.Left, pair.Right));
            context.RegisterSourceOutput(msbuildPlan.Combine(settings), static (spc, pair) =>
            {
                if (pair.Left == null) return;
                EmitWeights(spc, pair.Left);
                EmitClassifier(spc, pair.Left, pair.Right);
                foreach (var problem in pair.Left.Problems) spc.ReportDiagnostic(ToDiagnostic(problem.Id, null, problem.Args));
            });
            context.RegisterSourceOutput(settings, static (spc, s) =>
            {
                foreach (var problem in s.Problems) spc.ReportDiagnostic(ToDiagnostic(problem.Id, null, problem.Args));
            });

            // Diagnostics: the parser's own, plus the planner's problems placed at the class that asked.
            var problems = plans
                .Select(static (r, _) => (r.Request, r.Problems))
                .Collect();
            context.RegisterSourceOutput(parsed.Combine(problems), static (spc, pair) =>
            {
                var (p, all) = pair;
                foreach (var d in p.Diagnostics) spc.ReportDiagnostic(ToDiagnostic(d.Id, d.Location, d.Args));
                if (p.Request == null) return;
                foreach (var (request, list) in all)
                {
                    if (!request.Equals(p.Request)) continue;
                    foreach (var problem in list) spc.ReportDiagnostic(ToDiagnostic(problem.Id, p.Location, problem.Args));
                    break;
                }
            });
        }

        private static void EmitClassifier(SourceProductionContext spc, PlanResult result, BuildSettings settings)
        {
            if (result.Plan == null) return;
            spc.AddSource(Emitter.HintName(result.Request, ".g.cs"), SourceText.From(Emitter.EmitClassifier(result.Plan, settings), Encoding.UTF8));
        }

        private static void EmitWeights(SourceProductionContext spc, PlanResult result)
        {
            if (result.Plan == null) return;
            spc.AddSource(Emitter.HintName(result.Request, ".Weights.g.cs"), SourceText.From(Emitter.EmitWeights(result.Plan), Encoding.UTF8));
        }

        private static WeightsSource LoadWeights(AdditionalText file, System.Threading.CancellationToken ct)
        {
            string fileName = Path.GetFileName(file.Path);
            string name = fileName.Substring(0, fileName.Length - WeightsSuffix.Length);
            string? text = file.GetText(ct)?.ToString();
            if (text == null) return new WeightsSource(name, file.Path, "unreadable", null);
            using var sha = SHA256.Create();
            byte[] hash = sha.ComputeHash(Encoding.ASCII.GetBytes(text));
            return new WeightsSource(name, file.Path, BitConverter.ToString(hash).Replace("-", ""), text.Trim());
        }

        private static Diagnostic ToDiagnostic(string id, LocationInfo? location, EquatableArray<string> args)
        {
            var descriptor = Descriptor(id);
            var a = new object[args.Count];
            for (int i = 0; i < a.Length; i++) a[i] = args[i];
            return Diagnostic.Create(descriptor, location?.ToLocation(), a);
        }

        private static DiagnosticDescriptor Descriptor(string id) => id switch
        {
            "MNG0001" => DiagnosticDescriptors.UnknownVariant,
            "MNG0002" => DiagnosticDescriptors.WeightsNotFound,
            "MNG0003" => DiagnosticDescriptors.MalformedWeights,
            "MNG0004" => DiagnosticDescriptors.ShapeMismatch,
            "MNG0005" => DiagnosticDescriptors.InvalidClass,
            "MNG0006" => DiagnosticDescriptors.UnsupportedOption,
            "MNG0007" => DiagnosticDescriptors.SyntheticWeights,
            "MNG0008" => DiagnosticDescriptors.DuplicateWeights,
            "MNG0011" => DiagnosticDescriptors.InvalidBuildProperty,
            _ => DiagnosticDescriptors.InternalError,
        };
    }
}
