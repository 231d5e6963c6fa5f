import tseslint from 'typescript-eslint';

// The package root loads every provider class (~3 s, ~550 MB): deep imports only.
const providerRoot = { name: '@cdktf/provider-aws', message: 'Import provider classes by deep path, e.g. @cdktf/provider-aws/lib/s3-bucket.' };
// A relative import that reaches one of the project's top-level folders (matched on the path as written).
const ourFolder = (folders) => `^(\\.{1,2}/)+(.*/)?(${folders.join('|')})(/|$)`;

/**
 * Import boundaries: `no-restricted-imports` takes one option set per file, so each block repeats the
 * provider-root rule next to its own patterns.
 */
const restrict = (patterns) => ['error', { paths: [providerRoot], patterns }];

export default tseslint.config(
  { ignores: ['node_modules/**', 'cdktf.out/**', 'cdktf.out.*/**', '.build/**', '.venv/**', '.local/**', 'coverage/**', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      'no-restricted-imports': restrict([]),
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Handlers and the processor are bundled and shipped alone: infrastructure code stays out of them.
    files: ['lambda-src/**/*.ts', 'processor/**/*.ts'],
    rules: {
      'no-restricted-imports': restrict([{
        regex: ourFolder(['stacks']),
        message: 'lambda-src/ and processor/ never import stacks/: shared facts live in contracts/.',
      }]),
    },
  },
  {
    // Business rules: pure, importable from everywhere, depending on nothing else of ours.
    files: ['domain/**/*.ts'],
    rules: {
      'no-restricted-imports': restrict([{
        regex: ourFolder(['stacks', 'lambda-src', 'processor', 'scripts', 'contracts', 'test-support', '__tests__', 'bench', 'config', 'main']),
        message: 'domain/ imports nothing outside domain/.',
      }]),
    },
  },
  {
    // Facts shared by stacks, handlers, processor, scripts and tests: no SDK, no cdktf, nothing of ours but domain/.
    files: ['contracts/**/*.ts'],
    rules: {
      'no-restricted-imports': restrict([
        {
          regex: ourFolder(['stacks', 'lambda-src', 'processor', 'scripts', 'test-support', '__tests__', 'bench', 'config', 'main']),
          message: 'contracts/ imports nothing of ours except domain/.',
        },
        {
          group: ['@aws-sdk/*', '@aws-lambda-powertools/*', 'cdktf', 'cdktf/*', '@cdktf/*', 'constructs', 'zod'],
          message: 'contracts/ is plain TypeScript: no SDK, cdktf or runtime library (renderers return plain objects).',
        },
      ]),
    },
  },
  {
    // Tests poke at synthesized JSON of arbitrary shape; production code stays `any`-free.
    files: ['__tests__/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
