import { readdir, readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { EdgeforgeError } from "../../core/errors.js";

/** The shared libraries of the llama.cpp build node-llama-cpp ships, in the order they must be loaded. */
export interface LlamaLibraryFiles {
  /** The prebuilt-binaries package, e.g. "@node-llama-cpp/linux-x64". */
  packageName: string;
  packageVersion: string;
  binsDir: string;
  /** ggml base and core libraries: libllama needs them resolved first (Windows and macOS do not search $ORIGIN). */
  dependencies: string[];
  libllama: string;
  /** The llama.cpp release tag the binaries were built from (`_nlcBuildMetadata.json`). */
  llamaCppRelease: string | undefined;
}

/** CPU-only prebuilt packages by platform-arch: quantization never needs a GPU build. */
const cpuPackages: Readonly<Record<string, string>> = {
  "linux-x64": "@node-llama-cpp/linux-x64",
  "linux-arm64": "@node-llama-cpp/linux-arm64",
  "linux-arm": "@node-llama-cpp/linux-armv7l",
  "darwin-arm64": "@node-llama-cpp/mac-arm64-metal",
  "darwin-x64": "@node-llama-cpp/mac-x64",
  "win32-x64": "@node-llama-cpp/win-x64",
  "win32-arm64": "@node-llama-cpp/win-arm64",
};

const sharedLibraryPattern: Readonly<Record<string, RegExp>> = {
  linux: /\.so(\.\d+)*$/,
  darwin: /\.dylib$/,
  win32: /\.dll$/i,
};

function unavailable(message: string, details: Record<string, unknown>, cause?: unknown): EdgeforgeError {
  return new EdgeforgeError("RUNTIME_UNAVAILABLE", message, {
    hint: "reinstall with `npm install` so node-llama-cpp's prebuilt binaries for this platform are present (edgeforge never builds llama.cpp)",
    details,
    cause,
  });
}

/**
 * Find libllama and the ggml libraries beside it in node-llama-cpp's prebuilt package for this
 * platform. The package is resolved from node-llama-cpp's own location (it is its optional
 * dependency), so it works whether or not npm hoisted it.
 */
export async function findLlamaLibrary(platform: NodeJS.Platform = process.platform, arch: string = process.arch): Promise<LlamaLibraryFiles> {
  const packageName = cpuPackages[`${platform}-${arch}`];
  const pattern = sharedLibraryPattern[platform];
  if (!packageName || !pattern) {
    throw unavailable(`node-llama-cpp ships no prebuilt llama.cpp for ${platform}-${arch}`, { platform, arch });
  }
  let entry: string;
  try {
    const fromNodeLlamaCpp = createRequire(createRequire(import.meta.url).resolve("node-llama-cpp"));
    entry = fromNodeLlamaCpp.resolve(packageName);
  } catch (error) {
    throw unavailable(`cannot find ${packageName}, node-llama-cpp's prebuilt llama.cpp for ${platform}-${arch}`, { packageName }, error);
  }
  let located: { binsDir: string; packageVersion: string };
  try {
    const module = (await import(pathToFileURL(entry).href)) as { getBinsDir(): { binsDir: string; packageVersion: string } };
    located = module.getBinsDir();
  } catch (error) {
    throw unavailable(`${packageName} could not be loaded from ${entry}`, { packageName, entry }, error);
  }
  return locateLibraries(packageName, located.packageVersion, located.binsDir, pattern);
}

async function locateLibraries(packageName: string, packageVersion: string, packageBinsDir: string, pattern: RegExp): Promise<LlamaLibraryFiles> {
  let folders: string[];
  try {
    folders = (await readdir(packageBinsDir, { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
  } catch (error) {
    throw unavailable(`${packageName} has no bins folder at ${packageBinsDir}`, { packageBinsDir }, error);
  }
  for (const folder of folders.sort()) {
    const binsDir = join(packageBinsDir, folder);
    const files = (await readdir(binsDir)).filter((name) => pattern.test(name));
    const libllama = files.find((name) => /^(lib)?llama([.-]v?[\d.]+)?\.(so|dylib|dll)/i.test(name));
    if (!libllama) continue;
    const base = files.filter((name) => /^(lib)?ggml-base[.-]/i.test(name));
    const core = files.filter((name) => /^(lib)?ggml[.-](v?[\d.]+\.)?(so|dylib|dll)/i.test(name));
    return {
      packageName,
      packageVersion,
      binsDir,
      dependencies: [...base, ...core].map((name) => join(binsDir, name)),
      libllama: join(binsDir, libllama),
      llamaCppRelease: await readRelease(binsDir),
    };
  }
  throw unavailable(`${packageName} holds no libllama shared library under ${packageBinsDir}`, { packageBinsDir, folders });
}

async function readRelease(binsDir: string): Promise<string | undefined> {
  try {
    const metadata = JSON.parse(await readFile(join(binsDir, "_nlcBuildMetadata.json"), "utf8")) as {
      buildOptions?: { llamaCpp?: { release?: string } };
    };
    return metadata.buildOptions?.llamaCpp?.release;
  } catch {
    return undefined;
  }
}
