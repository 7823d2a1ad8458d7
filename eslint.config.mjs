// ESLint flat config: typescript-eslint's recommended rules with type information, plus Pulumi's rules that
// catch Outputs inside template literals (use pulumi.interpolate).
import tseslint from "typescript-eslint";
import pulumiPlugin from "@pulumi/eslint-plugin";

const pulumi = pulumiPlugin.default ?? pulumiPlugin;

export default tseslint.config(
    { ignores: ["node_modules/**", "bin/**", ".pulumi/**", ".toolchain/**", "rendered/**", ".local-data/**", "policy/node_modules/**", "**/*.mjs", "**/*.js"] },
    ...tseslint.configs.recommended,
    {
        files: ["**/*.ts"],
        languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
        plugins: { "@pulumi": pulumi },
        rules: {
            "@pulumi/no-output-in-template-literal": "error",
            "@pulumi/no-output-instance-in-template-literal": "error",
            "@typescript-eslint/no-explicit-any": "off",
            "@typescript-eslint/no-require-imports": "off",
            "@typescript-eslint/no-non-null-assertion": "off",
            "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
        },
    },
);
