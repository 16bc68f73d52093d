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
    /// Generates a MobileNet v1 classifier for every <c>[MobileNet("α_res")] partial class</c>, and an SSD MobileNet v1
    /// detector for every <c>[MobileNetSsd("entry")] partial class</c> (<see cref="DetectorPlanner"/>).
    /// Pipeline: <see cref="Parser"/> (class → <see cref="ClassRequest"/>) and the weights step (AdditionalFiles
    /// <c>*.mngweights</c>, the descriptions the MSBuild step writes of each weights file → <see cref="WeightsSource"/>,
    /// compared by content hash) feed the <see cref="Planner"/> (checks and every decision, cached unless the request or
    /// the weights change), whose <see cref="NetworkPlan"/> the <see cref="Emitter"/> writes out. The weights themselves are
    /// embedded by MSBuild as a resource and never pass through the generator. Diagnostics are reported separately, at the class.
    /// </summary>
    [Generator(LanguageNames.CSharp)]
    public sealed partial class MobileNetGenerator : IIncrementalGenerator
    {
        public const string AttributeName = "MobileNetGen.MobileNetAttribute";
        public const string DetectorAttributeName = "MobileNetGen.MobileNetSsdAttribute";
        /// <summary>Suffix of the weights descriptions the MSBuild step (build/MobileNetGen.targets) hands to the compiler.</summary>
        public const string WeightsSuffix = MobileNetGen.Model.WeightsDescription.Suffix;

        public static class TrackingNames
        {
            public const string Classes = "Classes";
            public const string Requests = "Requests";
            public const string Weights = "Weights";
            public const string Plans = "Plans";
            public const string Settings = "Settings";
            public const string Detectors = "Detectors";
            public const string DetectorPlans = "DetectorPlans";
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
                foreach (var problem in pair.Left.Problems) spc.ReportDiagnostic(problem.ToDiagnostic());
            });
            context.RegisterSourceOutput(settings, static (spc, s) =>
            {
                foreach (var problem in s.Problems) spc.ReportDiagnostic(problem.ToDiagnostic());
            });

            // Detectors: [MobileNetSsd] classes, planned from their weights description the same way.
            var detectors = context.SyntaxProvider
                .ForAttributeWithMetadataName(DetectorAttributeName,
                    static (node, _) => node is ClassDeclarationSyntax,
                    static (ctx, ct) => Parser.ParseDetector(ctx, ct))
                .WithTrackingName(TrackingNames.Detectors);
            var detectorPlans = detectors
                .Where(static p => p.Request != null)
                .Select(static (p, _) => p.Request!)
                .Combine(weights)
                .Select(static (pair, ct) => DetectorPlanner.Plan(pair.Left, pair.Right, ct))
                .WithTrackingName(TrackingNames.DetectorPlans);
            context.RegisterSourceOutput(detectorPlans, static (spc, result) =>
            {
                if (result.Plan == null) return;
                spc.AddSource(Emitter.DetectorHintName(result.Request, ".Weights.g.cs"), SourceText.From(Emitter.EmitDetectorWeights(result.Plan), Encoding.UTF8));
            });
            context.RegisterSourceOutput(detectorPlans.Combine(settings), static (spc, pair) =>
            {
                if (pair.Left.Plan == null) return;
                spc.AddSource(Emitter.DetectorHintName(pair.Left.Request, ".g.cs"), SourceText.From(Emitter.EmitDetector(pair.Left.Plan, pair.Right), Encoding.UTF8));
            });
            var detectorProblems = detectorPlans
                .Select(static (r, _) => (r.Request, r.Problems))
                .Collect();
            context.RegisterSourceOutput(detectors.Combine(detectorProblems), static (spc, pair) =>
                ReportAtClass(spc, pair.Left.Diagnostics, pair.Left.Request, pair.Left.Location, pair.Right));

            // Diagnostics: the parser's own, plus the planner's problems placed at the class that asked.
            var problems = plans
                .Select(static (r, _) => (r.Request, r.Problems))
                .Collect();
            context.RegisterSourceOutput(parsed.Combine(problems), static (spc, pair) =>
                ReportAtClass(spc, pair.Left.Diagnostics, pair.Left.Request, pair.Left.Location, pair.Right));
        }

        /// <summary>A class's diagnostics: the parser's own, then the planner's problems of its request placed at the class.</summary>
        private static void ReportAtClass<TRequest>(SourceProductionContext spc, EquatableArray<DiagnosticInfo> parserDiagnostics, TRequest? request,
            LocationInfo? location, ImmutableArray<(TRequest Request, EquatableArray<DiagnosticInfo> Problems)> all) where TRequest : class
        {
            foreach (var d in parserDiagnostics) spc.ReportDiagnostic(d.ToDiagnostic());
            if (request == null) return;
            foreach (var (planned, list) in all)
            {
                if (!planned.Equals(request)) continue;
                foreach (var problem in list) spc.ReportDiagnostic(problem.ToDiagnostic(location));
                break;
            }
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
            byte[] hash = sha.ComputeHash(Encoding.UTF8.GetBytes(text));
            return new WeightsSource(name, file.Path, BitConverter.ToString(hash).Replace("-", ""), text);
        }
    }
}
