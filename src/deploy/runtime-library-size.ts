import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { findInstalledPackage } from "../runtimes/find-installed-package.js";

export interface RuntimeLibrarySize {
  bytes: number;
  kind: "estimate";
  method: string;
}

const sizeOf = async (path: string): Promise<number | undefined> => stat(path).then((s) => s.size, () => undefined);

/**
 * llama.cpp's shared libraries for arm64 (libllama, libggml, libggml-base and the largest CPU variant),
 * sized from node-llama-cpp's prebuilt linux-arm64 package: the same code an Android arm64-v8a build
 * links, so a proxy for what it adds to the APK (uncompressed; an APK stores .so files deflated or
 * page-aligned uncompressed).
 */
export async function llamaCppArm64LibraryBytes(): Promise<RuntimeLibrarySize | undefined> {
  const installed = await findInstalledPackage("@node-llama-cpp/linux-arm64");
  if (!installed) return undefined;
  const bins = join(installed.directory, "bins", "linux-arm64");
  const names = await readdir(bins).catch(() => [] as string[]);
  const core = names.filter((name) => /^lib(llama|ggml|ggml-base)(\.v[\d.]+)?\.so$/.test(name));
  const cpuVariants = names.filter((name) => name.startsWith("libggml-cpu"));
  const sizes = await Promise.all(core.map((name) => sizeOf(join(bins, name))));
  const variantSizes = (await Promise.all(cpuVariants.map((name) => sizeOf(join(bins, name))))).filter((s): s is number => s !== undefined);
  if (core.length === 0 || variantSizes.length === 0) return undefined;
  const bytes = sizes.reduce<number>((sum, s) => sum + (s ?? 0), 0) + Math.max(...variantSizes);
  return { bytes, kind: "estimate", method: `sum of ${core.join(", ")} and the largest libggml-cpu variant from @node-llama-cpp/linux-arm64 ${installed.version} (uncompressed arm64 proxy for the Android build)` };
}

/** onnxruntime's full arm64 shared library (an upper bound: a reduced-operator build is smaller). */
export async function onnxRuntimeArm64LibraryBytes(): Promise<RuntimeLibrarySize | undefined> {
  const installed = await findInstalledPackage("onnxruntime-node");
  if (!installed) return undefined;
  for (const napi of ["napi-v6", "napi-v3"]) {
    const bytes = await sizeOf(join(installed.directory, "bin", napi, "linux", "arm64", "libonnxruntime.so.1"));
    if (bytes !== undefined) return { bytes, kind: "estimate", method: `libonnxruntime.so.1 for linux-arm64 from onnxruntime-node ${installed.version}: the full build, an upper bound for a reduced-operator build` };
  }
  return undefined;
}
