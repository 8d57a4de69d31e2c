// ESLint (flat config): the recommended JS and TypeScript rules, plus jest's, with focused and
// skipped tests as errors, and two type-aware rules on the TypeScript files that find async bugs
// (a promise nobody awaits, a promise where a plain value or callback is expected). Formatting is
// Prettier's job (`npm run format`).
const js = require('@eslint/js');
const jest = require('eslint-plugin-jest');
const tseslint = require('typescript-eslint');

module.exports = tseslint.config(
  { ignores: ['node_modules/', '.serverless/', '.esbuild/', '.bench/', '.hybridops/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        require: 'readonly',
        module: 'writable',
        __dirname: 'readonly',
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
      },
    },
    rules: {
      // Lazy client loading and CommonJS config files use require() on purpose.
      '@typescript-eslint/no-require-imports': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Typed linting: the project service reads each file's types through tsconfig.json (which
    // includes every .ts file); the JS/CJS config files keep the untyped rules only.
    // https://typescript-eslint.io/getting-started/typed-linting
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: __dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  {
    files: ['test/**/*.ts'],
    ...jest.configs['flat/recommended'],
    rules: {
      ...jest.configs['flat/recommended'].rules,
      'jest/no-focused-tests': 'error',
      'jest/no-disabled-tests': 'error',
      'jest/expect-expect': 'off',
      'jest/no-conditional-expect': 'off',
    },
  },
);
