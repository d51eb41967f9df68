import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "bench/results/", "coverage/", "test-output/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
      "no-console": "error",
    },
  },
  // Returning a promise out of a `using` scope disposes the resource before the promise settles: await it.
  {
    files: ["src/**/*.ts"],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: { "@typescript-eslint/return-await": ["error", "error-handling-correctness-only"] },
  },
  // CommonJS config files (dependency-cruiser reads .cjs).
  { files: ["**/*.cjs"], languageOptions: { sourceType: "commonjs", globals: { module: "writable", require: "readonly" } } },
  // The CLI, benchmarks and child-process entry points own stdout/stderr.
  { files: ["src/cli/**", "bench/**", "test/**", "src/**/*-child.ts", "scripts/**"], rules: { "no-console": "off" } },
);
