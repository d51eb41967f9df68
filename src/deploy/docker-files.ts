import { packageFolders, publicKeyFileName, serveArguments, type ServedModel } from "./served-model.js";

/**
 * Node 24 LTS on Debian slim, pinned to a patch release (24.22.3: the one .ci/run's suite passed on, December 2026).
 * Node 20 reached its end of life on 2026-04-30, so images are not built on it. Override with --base-image, ideally by digest.
 */
export const defaultBaseImage = "node:24.22.3-bookworm-slim";
/** The official node image's unprivileged user. */
export const containerUid = 1000;

export interface DockerOptions {
  baseImage: string;
  edgeforgeVersion: string;
  /** `vendor/edgeforge-X.tgz` inside the package (an `npm pack` tarball), copied into the image and installed. */
  vendoredTarball: string;
  model: ServedModel;
  hasPublicKey: boolean;
}

/** In-image locations. */
export const imagePaths = { model: "/models", certification: "/etc/edgeforge/certification", publicKey: `/etc/edgeforge/${publicKeyFileName}` } as const;

const json = (values: string[]): string => JSON.stringify(values);

export function renderDockerfile(options: DockerOptions): string {
  const { model } = options;
  const healthcheck = `fetch('http://127.0.0.1:${model.port}/v2/health/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`;
  return [
    `# edgeforge serve: ${model.name} version ${model.version} (${model.artifactName}), written by edgeforge ${options.edgeforgeVersion} package --target docker`,
    `FROM ${options.baseImage}`,
    "",
    `ARG EDGEFORGE_PACKAGE=/tmp/${options.vendoredTarball}`,
    "# onnxruntime-node: CPU binaries from npm only, no download at install; no telemetry or audit calls at build",
    "ENV NODE_ENV=production npm_config_onnxruntime_node_install=skip npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false",
    "# edgeforge from the tarball packed beside this Dockerfile (the npm registry serves its dependencies)",
    `COPY ${options.vendoredTarball} /tmp/${options.vendoredTarball}`,
    `RUN npm install --global --omit=dev "\${EDGEFORGE_PACKAGE}" && npm cache clean --force && rm -rf /tmp/vendor`,
    "",
    "# Model, signature and certification: owned by root, so read-only for the unprivileged user that serves",
    `COPY --chown=0:0 ${packageFolders.model}/ ${imagePaths.model}/`,
    `COPY --chown=0:0 ${packageFolders.certification}/ ${imagePaths.certification}/`,
    ...(options.hasPublicKey ? [`COPY --chown=0:0 ${publicKeyFileName} ${imagePaths.publicKey}`] : []),
    "",
    `USER ${containerUid}:${containerUid}`,
    `EXPOSE ${model.port}`,
    `HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 CMD ${json(["node", "-e", healthcheck])}`,
    `ENTRYPOINT ${json(["edgeforge", "serve"])}`,
    `CMD ${json(serveArguments(model))}`,
    "",
  ].join("\n");
}

/** Only what the image needs goes into the build context. */
export function renderDockerignore(hasPublicKey: boolean, extra: readonly string[] = []): string {
  return ["# everything is excluded except what the Dockerfile copies", "*", `!${packageFolders.model}/`, `!${packageFolders.certification}/`, ...(hasPublicKey ? [`!${publicKeyFileName}`] : []), ...extra.map((name) => `!${name}`), ""].join("\n");
}
