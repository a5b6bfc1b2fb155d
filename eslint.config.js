// Lint: typescript-eslint with type information, chosen for the rules that catch what loses events in an async
// agent (a floating promise, a promise passed where a callback is expected, an await on a non-promise): checks that
// need the TypeScript checker, which Biome's linter does not run. Formatting is Prettier's (.prettierrc.json).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import stylistic from '@stylistic/eslint-plugin';
import globals from 'globals';

// 120 columns for code and comments (Prettier wraps code; comments are wrapped by hand). A string or template literal
// may run longer, so that a message seen in a log can be found in the code with grep.
const MAX_LEN = {
  code: 120,
  ignoreUrls: true,
  ignoreRegExpLiterals: true,
  ignoreStrings: true,
  ignoreTemplateLiterals: true,
};

const style = {
  plugins: { '@stylistic': stylistic },
  rules: { '@stylistic/max-len': ['error', MAX_LEN] },
};

// Every error a user or a test can see carries a stable code from the catalogue in src/core/errors.ts.
const CODED_ERRORS = {
  'no-restricted-syntax': [
    'error',
    {
      selector: 'ClassDeclaration[superClass.name="Error"]',
      message: 'Errors carry a stable code: extend AgentError (src/core/errors.ts) instead of Error.',
    },
    {
      selector: 'NewExpression[callee.name=/^(Error|TypeError|RangeError)$/]',
      message: 'Errors carry a stable code: throw an AgentError (src/core/errors.ts) with a catalogue code.',
    },
  ],
};

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'bench/out/', 'coverage/'] },
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommended],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    ...style,
    rules: {
      ...style.rules,
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          // node:test's test()/describe() return promises the runner awaits itself
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': [
        'error',
        { checksVoidReturn: { arguments: false, attributes: false } },
      ],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
    },
  },
  {
    // the agent's own code (the browser code of the status page and the catalogue itself excepted)
    files: ['src/**/*.ts'],
    ignores: ['src/core/errors.ts', 'src/monitor/status-page/assets/**'],
    rules: CODED_ERRORS,
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    extends: [js.configs.recommended],
    languageOptions: { globals: globals.node },
    ...style,
    rules: {
      ...style.rules,
      'no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
);
