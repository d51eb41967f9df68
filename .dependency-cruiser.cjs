/**
 * The layer picture from DESIGN.md, checked in CI: a module imports only from its own layer or below.
 */
const layers = [
  ["core"],
  ["formats", "kernels", "stats", "pareto", "gates", "reports", "hardware", "datasets"],
  ["runtimes", "toolchain"],
  ["passes", "eval", "bench", "registry", "signing", "monitor", "deploy", "rollout"],
  ["workflow"],
  ["api"],
  ["cli", "server"],
];

const dirPattern = (dirs) => `^src/(${dirs.join("|")})/`;

const layerRules = layers.slice(0, -1).map((dirs, index) => ({
  name: `layer-${index}-imports-upward`,
  comment: `L${index} (${dirs.join(", ")}) may only import from L${index} or below`,
  severity: "error",
  from: { path: dirPattern(dirs) },
  to: { path: `${dirPattern(layers.slice(index + 1).flat())}|^src/index\\.ts$` },
}));

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: "cli-and-server-are-independent",
      severity: "error",
      from: { path: "^src/cli/" },
      to: { path: "^src/server/" },
    },
    {
      name: "server-and-cli-are-independent",
      severity: "error",
      from: { path: "^src/server/" },
      to: { path: "^src/cli/" },
    },
    {
      name: "native-engines-only-in-runtimes-and-toolchain",
      comment: "onnxruntime-node, node-llama-cpp, openvino-node and koffi load lazily inside runtimes/ and toolchain/",
      severity: "error",
      from: { path: "^src/", pathNot: "^src/(runtimes|toolchain)/" },
      to: { path: "node_modules/(onnxruntime-node|node-llama-cpp|openvino-node|koffi)/" },
    },
    {
      name: "passes-never-import-runtimes",
      severity: "error",
      from: { path: "^src/passes/" },
      to: { path: "^src/runtimes/" },
    },
    {
      name: "no-circular",
      severity: "error",
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsConfig: { fileName: "tsconfig.json" },
    tsPreCompilationDeps: true,
    exclude: { path: "\\.test\\.ts$" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default"] },
  },
};
