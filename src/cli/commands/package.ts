import { type Command, InvalidArgumentError } from "commander";
import { defaultBaseImage, packageArtifact, packageTargets, type PackageTarget } from "../../api/index.js";
import { parseSizeBytes } from "../../core/units.js";
import { parsePositiveInt } from "../options.js";
import { printHuman, printJson, stderrLogger } from "../output.js";

interface PackageFlags {
  target: string;
  output: string;
  certification: string;
  key?: string;
  name?: string;
  modelVersion?: string;
  threads?: number;
  port?: number;
  budget?: number;
  device?: string;
  ctx?: number;
  baseImage?: string;
  edgeforgeTarball?: string;
  image?: string;
  replicas?: number;
  maxReplicas?: number;
  prometheusAddress?: string;
  installDir?: string;
  edgeforgeBin?: string;
  json?: boolean;
}

function parseTarget(value: string): PackageTarget {
  if (!(packageTargets as readonly string[]).includes(value)) throw new InvalidArgumentError(`expected one of ${packageTargets.join(", ")}`);
  return value as PackageTarget;
}

function parseBudget(value: string): number {
  const bytes = parseSizeBytes(value);
  if (bytes === undefined || bytes <= 0) throw new InvalidArgumentError("expected a size such as 100MB or 52428800");
  return bytes;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new InvalidArgumentError("expected a port 1..65535");
  return port;
}

export function registerPackageCommand(program: Command): void {
  program
    .command("package")
    .description("Package a certified artifact for deployment: docker, k8s, systemd, or a mobile bundle (android, ios, bundle) with its certificate, signature and an operator README")
    .argument("<artifact>", "the certified model file or folder")
    .requiredOption("--target <target>", `one of ${packageTargets.join(", ")}`, parseTarget)
    .requiredOption("-o, --output <dir>", "folder for the package")
    .requiredOption("--certification <dir>", "the folder `edgeforge certify` wrote for this artifact (certification.json, ARTIFACT.sig)")
    .option("--key <pub.pem>", "release public key: verify the signature now, ship the key, and make the server verify it on every load")
    .option("--name <name>", "served model name (default: the artifact's file name)")
    .option("--model-version <v>", "served model version (default: the registry version, else the digest's first 12 hex digits)")
    .option("--threads <n>", "compute threads per replica / on the device", parsePositiveInt)
    .option("--port <port>", "port edgeforge serve listens on (default 8080)", parsePort)
    .option("--budget <size>", "mobile: size budget instead of the workflow's (android 100MB, ios 50MB)", parseBudget)
    .option("--device <profile>", "mobile: device profile for the RAM check (default android-snapdragon-8-gen-3 / iphone-15-pro; 'none' skips)")
    .option("--ctx <tokens>", "mobile GGUF: context length for the RAM estimate and the runtime settings", parsePositiveInt)
    .option("--base-image <image>", `docker: base image (default ${defaultBaseImage})`)
    .option("--edgeforge-tarball <file>", "docker, k8s, systemd: the edgeforge `npm pack` tarball to ship and install (default: one packed now from the running edgeforge)")
    .option("--image <ref>", "k8s: image the Deployment runs (default edgeforge-NAME:VERSION, built from the package's Dockerfile)")
    .option("--replicas <n>", "k8s: replicas (HPA minimum; default 2)", parsePositiveInt)
    .option("--max-replicas <n>", "k8s: HPA maximum (default 10)", parsePositiveInt)
    .option("--prometheus-address <url>", "k8s: Prometheus the canary analysis queries (default http://prometheus-operated.monitoring.svc:9090)")
    .option("--install-dir <dir>", "systemd: where the package will be installed (default /opt/edgeforge/NAME)")
    .option("--edgeforge-bin <path>", "systemd: the edgeforge executable (default /usr/local/bin/edgeforge)")
    .option("--json", "print the package manifest on stdout")
    .action(async (artifact: string, flags: PackageFlags) => {
      const result = await packageArtifact({
        artifact,
        certification: flags.certification,
        target: flags.target as PackageTarget,
        output: flags.output,
        ...(flags.key ? { key: flags.key } : {}),
        ...(flags.name ? { name: flags.name } : {}),
        ...(flags.modelVersion ? { version: flags.modelVersion } : {}),
        ...(flags.threads !== undefined ? { threads: flags.threads } : {}),
        ...(flags.port !== undefined ? { port: flags.port } : {}),
        ...(flags.budget !== undefined ? { budgetBytes: flags.budget } : {}),
        ...(flags.device ? { device: flags.device } : {}),
        ...(flags.ctx !== undefined ? { contextLength: flags.ctx } : {}),
        ...(flags.baseImage ? { baseImage: flags.baseImage } : {}),
        ...(flags.edgeforgeTarball ? { edgeforgeTarball: flags.edgeforgeTarball } : {}),
        ...(flags.image ? { image: flags.image } : {}),
        ...(flags.replicas !== undefined ? { replicas: flags.replicas } : {}),
        ...(flags.maxReplicas !== undefined ? { maxReplicas: flags.maxReplicas } : {}),
        ...(flags.prometheusAddress ? { prometheusAddress: flags.prometheusAddress } : {}),
        ...(flags.installDir ? { installDir: flags.installDir } : {}),
        ...(flags.edgeforgeBin ? { edgeforgeBin: flags.edgeforgeBin } : {}),
        logger: stderrLogger,
      });
      if (flags.json) printJson(result);
      for (const check of result.bundle?.checks ?? []) printHuman(`${check.passed ? "pass" : check.required ? "FAIL" : "advice"}  ${check.name} — ${check.detail}`);
      printHuman(`packaged ${result.model.name} ${result.model.version} (${result.model.artifact}) for ${result.target}: ${result.files.length} files in ${result.dir}; see README.md there`);
    });
}
