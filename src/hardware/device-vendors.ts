/** PCI vendor ids (from the PCI-SIG registry, as in pci.ids) of GPU and NPU makers. */
const pciVendors: Record<number, string> = {
  0x10de: "nvidia",
  0x1002: "amd",
  0x1022: "amd",
  0x8086: "intel",
  0x5143: "qualcomm",
  0x1e60: "hailo",
  0x13b5: "arm",
  0x14e4: "broadcom",
};

/** Platform (non-PCI) GPUs and NPUs are known by their kernel driver. */
const driverVendors: Record<string, { vendor: string; name: string }> = {
  v3d: { vendor: "broadcom", name: "Broadcom VideoCore (V3D)" },
  vc4: { vendor: "broadcom", name: "Broadcom VideoCore (VC4 display)" },
  panfrost: { vendor: "arm", name: "Arm Mali (panfrost)" },
  panthor: { vendor: "arm", name: "Arm Mali (panthor)" },
  lima: { vendor: "arm", name: "Arm Mali Utgard (lima)" },
  msm: { vendor: "qualcomm", name: "Qualcomm Adreno (msm)" },
  tegra: { vendor: "nvidia", name: "NVIDIA Tegra" },
  nvgpu: { vendor: "nvidia", name: "NVIDIA Tegra GPU (nvgpu)" },
  i915: { vendor: "intel", name: "Intel graphics (i915)" },
  xe: { vendor: "intel", name: "Intel graphics (xe)" },
  amdgpu: { vendor: "amd", name: "AMD Radeon (amdgpu)" },
  nouveau: { vendor: "nvidia", name: "NVIDIA (nouveau)" },
  nvidia: { vendor: "nvidia", name: "NVIDIA" },
  intel_vpu: { vendor: "intel", name: "Intel NPU (intel_vpu)" },
  amdxdna: { vendor: "amd", name: "AMD XDNA NPU" },
  qaic: { vendor: "qualcomm", name: "Qualcomm Cloud AI (qaic)" },
  rocket: { vendor: "rockchip", name: "Rockchip NPU (rocket)" },
  virtio_gpu: { vendor: "virtio", name: "virtio GPU (virtual machine)" },
};

/** "0x10de\n" → "nvidia". */
export function vendorFromPciId(text: string): string | undefined {
  const id = Number.parseInt(text.trim(), 16);
  return Number.isFinite(id) ? pciVendors[id] : undefined;
}

export function describeDriver(driver: string): { vendor: string; name: string } | undefined {
  return driverVendors[driver];
}
