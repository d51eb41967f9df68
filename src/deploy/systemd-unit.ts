import type { DeploymentSizing } from "./deployment-sizing.js";
import { serveArguments, type ServedModel } from "./served-model.js";

export const defaultEdgeforgeBin = "/usr/local/bin/edgeforge";

export interface SystemdOptions {
  model: ServedModel;
  sizing: DeploymentSizing;
  /** Where the package is installed (model/ and certification/ under it). */
  installDir: string;
  edgeforgeBin: string;
  /** How long SIGTERM may take: serve's drain plus margin. */
  drainMs: number;
  edgeforgeVersion: string;
}

export function systemdUnitName(model: ServedModel): string {
  return `edgeforge-${model.name}.service`;
}

/** systemd quotes arguments with spaces; ours have none, but `%` must be doubled in ExecStart. */
const execArgument = (value: string): string => (/[\s"'\\]/.test(value) ? JSON.stringify(value) : value).replaceAll("%", "%%");

/**
 * A hardened service unit: a throw-away user (DynamicUser), a read-only system, no privilege gain, no
 * capabilities, a syscall allow-list, restart on failure with a start limit, and memory/CPU limits
 * from the certification. MemoryDenyWriteExecute stays off: V8's JIT needs writable+executable pages.
 */
export function renderSystemdUnit(options: SystemdOptions): string {
  const { model, sizing } = options;
  const cacheName = `edgeforge-${model.name}`;
  const exec = [options.edgeforgeBin, "serve", ...serveArguments(model)].map(execArgument).join(" ");
  return [
    `# edgeforge serve: ${model.name} version ${model.version}, written by edgeforge ${options.edgeforgeVersion} package --target systemd`,
    `# Resource figures: ${sizing.method}`,
    "[Unit]",
    `Description=edgeforge serve ${model.name} ${model.version} (${model.artifactName})`,
    `Documentation=file://${options.installDir}/README.md`,
    "After=network-online.target",
    "Wants=network-online.target",
    "StartLimitIntervalSec=300",
    "StartLimitBurst=5",
    "",
    "[Service]",
    "Type=exec",
    `ExecStart=${exec}`,
    "Environment=NODE_ENV=production",
    `Environment=XDG_CACHE_HOME=/var/cache/${cacheName}`,
    `CacheDirectory=${cacheName}`,
    `WorkingDirectory=${options.installDir}`,
    "Restart=on-failure",
    "RestartSec=5s",
    "KillSignal=SIGTERM",
    `TimeoutStopSec=${Math.ceil(options.drainMs / 1000) + 5}s`,
    "",
    "DynamicUser=yes",
    "NoNewPrivileges=yes",
    "CapabilityBoundingSet=",
    "AmbientCapabilities=",
    "ProtectSystem=strict",
    `ReadOnlyPaths=${options.installDir}`,
    "ProtectHome=yes",
    "PrivateTmp=yes",
    "PrivateDevices=yes",
    "PrivateUsers=yes",
    "ProtectKernelTunables=yes",
    "ProtectKernelModules=yes",
    "ProtectKernelLogs=yes",
    "ProtectControlGroups=yes",
    "ProtectClock=yes",
    "ProtectHostname=yes",
    "ProtectProc=invisible",
    "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
    "RestrictNamespaces=yes",
    "RestrictRealtime=yes",
    "RestrictSUIDSGID=yes",
    "LockPersonality=yes",
    "RemoveIPC=yes",
    "UMask=0077",
    "SystemCallArchitectures=native",
    "SystemCallFilter=@system-service",
    "SystemCallFilter=~@privileged",
    "SystemCallErrorNumber=EPERM",
    "",
    `# Memory from certify's measured peak RSS; CPU ${sizing.cpuSource === "measured" ? "from its measured CPU time per request" : "from the thread count (an estimate)"} (README: Resources)`,
    `MemoryHigh=${Math.ceil(sizing.memoryRequestBytes / 1048576)}M`,
    `MemoryMax=${Math.ceil(sizing.memoryLimitBytes / 1048576)}M`,
    `CPUQuota=${Math.round(sizing.cpuLimit * 100)}%`,
    "TasksMax=512",
    "LimitNOFILE=65536",
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ].join("\n");
}
