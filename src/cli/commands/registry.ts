import type { Command } from "commander";
import { writeFileAtomic } from "../../core/atomic-write.js";
import { Registry, registerReport, type LineagePassStep } from "../../api/index.js";
import { formatBytes } from "../../core/units.js";
import { collect } from "../options.js";
import { printHuman, printJson } from "../output.js";
import { renderLineage } from "../render/render-lineage.js";
import { parsePassOptions } from "./optimize.js";

interface RegistryFlags {
  registry?: string;
  json?: boolean;
}

interface AddFlags extends RegistryFlags {
  name: string;
  versionName?: string;
  notes?: string;
  parent?: string;
  pass: string[];
  passOption: string[];
  fromReport?: boolean;
}

function withRegistry<T>(flags: RegistryFlags, fn: (registry: Registry) => T): T {
  const registry = Registry.open(flags.registry);
  try {
    return fn(registry);
  } finally {
    registry.close();
  }
}

function addCommonOptions(command: Command): Command {
  return command.option("--registry <file>", "registry database (default $EDGEFORGE_REGISTRY or ~/.edgeforge/registry.db)").option("--json", "print JSON on stdout");
}

export function registerRegistryCommand(program: Command): void {
  const registry = program.command("registry").description("The model registry: versions, content-addressed artifacts, lineage, evaluations, certifications, aliases (SQLite)");

  addCommonOptions(
    registry
      .command("add")
      .description("Register a model file or folder as a new version (copied into the content-addressed store)")
      .argument("<path>", "model file or folder, or with --from-report an optimize report.json")
      .requiredOption("--name <model>", "model name")
      .option("--version-name <v>", "version name (default: the next number)")
      .option("--notes <text>", "free text kept with the version")
      .option("--parent <path>", "the model this one was made from (recorded as lineage)")
      .option("--pass <id>", "a pass that made it from the parent, in order (repeatable)", collect, [])
      .option("--pass-option <id:key=value>", "an option of one of those passes (repeatable)", collect, [])
      .option("--from-report", "PATH is an optimize report.json: register its recommended artifact with lineage and evaluations"),
  ).action(async (path: string, flags: AddFlags) => {
    if (flags.fromReport) {
      const result = await registerReport({ report: path, model: flags.name, command: "registry add --from-report", ...(flags.registry ? { registry: flags.registry } : {}) });
      if (flags.json) printJson(result);
      printHuman(`registered ${result.model}@${result.version} (${result.artifact.format}, ${formatBytes(result.artifact.sizeBytes)}, sha256 ${result.artifactDigest}) with ${result.evaluations} evaluation(s)`);
      return;
    }
    const options = parsePassOptions(flags.passOption);
    const passes: LineagePassStep[] = flags.pass.map((passId) => ({ passId, options: options[passId] ?? {} }));
    const open = Registry.open(flags.registry);
    try {
      const result = await open.addVersion({
        model: flags.name,
        path,
        command: "registry add",
        ...(flags.versionName ? { version: flags.versionName } : {}),
        ...(flags.notes ? { notes: flags.notes } : {}),
        ...(flags.parent ? { parentPath: flags.parent } : {}),
        ...(passes.length > 0 ? { passes } : {}),
      });
      if (flags.json) printJson(result);
      printHuman(`registered ${result.model}@${result.version} (${result.artifact.format}, ${formatBytes(result.artifact.sizeBytes)}, sha256 ${result.artifactDigest}) → ${result.artifact.path ?? ""}`);
    } finally {
      open.close();
    }
  });

  addCommonOptions(registry.command("list").description("List models with their version counts and aliases")).action((flags: RegistryFlags) => {
    const models = withRegistry(flags, (r) => r.listModels());
    if (flags.json) printJson(models);
    if (models.length === 0) printHuman("the registry holds no models yet");
    for (const model of models) {
      const aliases = Object.entries(model.aliases).map(([alias, version]) => `${alias}→${version}`).join(" ");
      printHuman(`${model.name}  ${model.versions} version(s), latest ${model.latestVersion ?? "-"}${aliases ? `  ${aliases}` : ""}`);
    }
  });

  addCommonOptions(registry.command("show").description("Show a model's versions, artifacts, evaluations, certifications and aliases").argument("<model>")).action((model: string, flags: RegistryFlags) => {
    const { shown, marks } = withRegistry(flags, (r) => ({ shown: r.showModel(model), marks: r.events.marks(model) }));
    if (flags.json) printJson({ ...shown, marks });
    printHuman(shown.name);
    for (const v of shown.versions) {
      printHuman(`  @${v.version}${v.aliases.length > 0 ? ` (${v.aliases.join(", ")})` : ""}  ${v.artifact.format} · ${formatBytes(v.artifact.sizeBytes)} · sha256 ${v.artifactDigest.slice(0, 16)}… · ${v.createdAt} by ${v.createdBy}`);
      for (const mark of marks.filter((m) => m.version === v.version)) printHuman(`     marked ${mark.mark} since ${mark.markedAt}: ${mark.reason}`);
      printHuman(`     ${v.evaluations.length} evaluation(s) · ${v.certifications.length} certification(s)${v.certifications[0] ? ` (latest: ${v.certifications[0].approved ? "approved" : "not approved"})` : ""}`);
    }
  });

  addCommonOptions(registry.command("lineage").description("Show how a version was made, back to its first registered ancestor").argument("<ref>", "model@version, model@alias, model (latest) or an artifact sha256")).action((ref: string, flags: RegistryFlags) => {
    const tree = withRegistry(flags, (r) => r.lineage(ref));
    if (flags.json) printJson(tree);
    printHuman(renderLineage(tree));
  });

  const alias = registry.command("alias").description("Move or list aliases (production, staging, candidate…)");
  addCommonOptions(
    alias
      .command("set")
      .description("Point an alias at a version; the move is kept in the history")
      .argument("<model>")
      .argument("<alias>")
      .argument("<version>")
      .requiredOption("--reason <text>", "why (kept in the audit history)"),
  ).action((model: string, name: string, version: string, flags: RegistryFlags & { reason: string }) => {
    const event = withRegistry(flags, (r) => r.setAlias({ model, alias: name, version, reason: flags.reason, command: "registry alias set" }));
    if (flags.json) printJson(event);
    printHuman(`${model}@${name}: ${event.fromVersion ?? "(none)"} → ${event.toVersion ?? "(none)"} (${event.reason})`);
  });
  addCommonOptions(alias.command("list").description("List aliases").argument("[model]")).action((model: string | undefined, flags: RegistryFlags) => {
    const aliases = withRegistry(flags, (r) => r.listAliases(model));
    if (flags.json) printJson(aliases);
    for (const a of aliases) printHuman(`${a.model}@${a.alias} → ${a.version}  (since ${a.updatedAt})`);
  });

  addCommonOptions(registry.command("history").description("Every alias move of a model, oldest first").argument("<model>").option("--alias <name>", "only this alias")).action((model: string, flags: RegistryFlags & { alias?: string }) => {
    const events = withRegistry(flags, (r) => r.aliasHistory(model, flags.alias));
    if (flags.json) printJson(events);
    for (const e of events) printHuman(`${e.at}  ${e.model}@${e.alias}: ${e.fromVersion ?? "(none)"} → ${e.toVersion ?? "(removed)"}  by ${e.actor} via \`${e.command}\`: ${e.reason}`);
  });

  addCommonOptions(
    registry
      .command("unmark")
      .description("Clear a version's mark (e.g. needs-recalibration set by a drift alert); audited")
      .argument("<model>")
      .argument("<version>")
      .argument("<mark>")
      .requiredOption("--reason <text>", "why (kept in the audit history)"),
  ).action((model: string, version: string, mark: string, flags: RegistryFlags & { reason: string }) => {
    const removed = withRegistry(flags, (r) => r.events.unmark({ model, version, mark, reason: flags.reason }));
    if (flags.json) printJson({ model, version, mark, removed });
    printHuman(removed ? `${model}@${version}: ${mark} cleared (${flags.reason})` : `${model}@${version} had no ${mark} mark`);
  });

  addCommonOptions(registry.command("export").description("The whole registry as JSON (stdout, or a file)").option("-o, --output <file>", "write to a file instead of stdout")).action(async (flags: RegistryFlags & { output?: string }) => {
    const exported = withRegistry(flags, (r) => r.export());
    if (flags.output) {
      await writeFileAtomic(flags.output, `${JSON.stringify(exported, null, 2)}\n`);
      printHuman(`wrote ${flags.output}`);
    } else printJson(exported);
  });
}
