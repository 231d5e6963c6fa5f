import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'cdktf.out/**', 'cdktf.out.*/**', '.build/**', '.venv/**', '.local/**', 'coverage/**', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      // The package root loads every provider class (~3 s, ~550 MB): deep imports only.
      'no-restricted-imports': ['error', {
        paths: [{ name: '@cdktf/provider-aws', message: 'Import provider classes by deep path, e.g. @cdktf/provider-aws/lib/s3-bucket.' }],
      }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Tests poke at synthesized JSON of arbitrary shape; production code stays `any`-free.
    files: ['__tests__/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
