/**
 * What `detectHardware` found on this machine. Every figure carries its unit in its name; a fact
 * that could not be read is the literal "unknown" (never a guess), and `notes` say why.
 */
export type Unknown = "unknown";

export const cpuFeatures = [
  // x86
  "sse4.2",
  "avx",
  "avx2",
  "fma",
  "f16c",
  "avx512f",
  "avx512bw",
  "avx512vl",
  "avx512_vnni",
  "avx_vnni",
  "avx512_bf16",
  "avx512_fp16",
  "amx_tile",
  "amx_int8",
  "amx_bf16",
  // ARM
  "neon",
  "dotprod",
  "i8mm",
  "sve",
  "sve2",
  "fp16",
  "bf16",
] as const;
export type CpuFeature = (typeof cpuFeatures)[number];

export type CpuVendor = "intel" | "amd" | "arm" | "apple" | "qualcomm" | "nvidia" | "broadcom" | "ampere" | "other" | Unknown;

export interface OsInfo {
  /** Node's `process.platform` (linux, darwin, win32…). */
  platform: string;
  /** Kernel release (`uname -r`). */
  release: string;
  /** e.g. "Debian GNU/Linux 12 (bookworm)" from /etc/os-release, or "macOS 14.4". */
  distro: string | Unknown;
  /** Board or product name (device tree model or DMI product name), e.g. "Raspberry Pi 5 Model B Rev 1.0". */
  machineModel: string | Unknown;
}

export interface CacheInfo {
  level: number;
  type: "data" | "instruction" | "unified";
  sizeBytes: number;
  /** How many logical CPUs share this cache, when the kernel says. */
  sharedByThreads?: number;
}

export interface CpuInfo {
  /** Node's `process.arch` (x64, arm64, arm…). */
  architecture: string;
  vendor: CpuVendor;
  model: string | Unknown;
  physicalCores: number | Unknown;
  logicalThreads: number;
  /** Threads this process may use (CPU affinity), from `os.availableParallelism()`. */
  availableThreads: number;
  /** A cgroup CPU quota expressed in CPUs (e.g. 1.5), when one limits this process. */
  cgroupCpuQuota?: number;
  features: CpuFeature[];
  /** Where `features` came from: "/proc/cpuinfo", "sysctl", or "unknown" (then the list is empty, not "none"). */
  featureSource: "/proc/cpuinfo" | "sysctl" | Unknown;
  /** Caches of the first CPU (on big.LITTLE parts other cores may differ). */
  caches: CacheInfo[];
}

export interface MemoryInfo {
  totalMemoryBytes: number;
  /** Memory a new process can use without swapping (MemAvailable), capped by a cgroup limit. */
  availableMemoryBytes: number;
  /** A cgroup memory limit on this process, when one is set. */
  cgroupLimitBytes?: number;
  source: "/proc/meminfo" | "sysctl" | "os";
}

export interface GpuDevice {
  vendor: string;
  name: string;
  /** Dedicated memory; absent for integrated GPUs that share system memory. */
  memoryBytes?: number;
  sharesSystemMemory: boolean;
  /** Kernel driver (DRM devices). */
  driver?: string;
  driverVersion?: string;
  /** PCI bus id or DRM render node. */
  location?: string;
  source: "nvidia-smi" | "drm" | "apple-silicon";
}

export interface NpuDevice {
  vendor: string;
  name: string;
  devicePath?: string;
  driver?: string;
  source: "accel" | "hailo" | "apple-silicon";
}

export interface EnergyCounter {
  /** "rapl" (Intel/AMD powercap) or "nvidia-smi" (GPU board power). */
  kind: "rapl" | "nvidia-smi";
  /** e.g. "package-0", "core", "dram", "gpu-0". */
  name: string;
  path?: string;
  readable: boolean;
  /** Why a counter exists but cannot be read (e.g. permission). */
  reason?: string;
  /** RAPL counters wrap at this value. */
  maxEnergyRangeMicrojoules?: number;
  /** nvidia-smi power.draw at detection time. */
  powerDrawWatts?: number;
}

export interface HardwareReport {
  os: OsInfo;
  cpu: CpuInfo;
  memory: MemoryInfo;
  gpus: GpuDevice[];
  npus: NpuDevice[];
  energyCounters: EnergyCounter[];
  /** Why some facts are "unknown" or lists are empty, for humans. */
  notes: string[];
}
