// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';
import reactHooks from 'eslint-plugin-react-hooks';
import jsxA11y from 'eslint-plugin-jsx-a11y';

// The admin UI (React, built by Vite) is type-checked against its own admin-ui/tsconfig.json,
// which the server's tsconfig.json excludes. eslint-plugin-react-refresh is not used: its
// only-export-components rule would split the hook-and-provider modules (session, theme, toast)
// and the pages' shared helpers for a dev-server nicety (state kept across hot reloads).
const adminUiFiles = ['admin-ui/src/**/*.{ts,tsx}', 'admin-ui/vite.config.mts'];

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'coverage/**',
      'data/**',
      'admin-ui/dist/**',
      'admin-ui/src/api/schema.d.ts',
      'bench/results/**',
    ],
  },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked.map((config) => ({
    ...config,
    files: ['**/*.ts'],
    ignores: ['admin-ui/**'],
  })),
  {
    files: ['**/*.ts'],
    ignores: ['admin-ui/**'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-extraneous-class': 'off',
    },
  },
  {
    // The relay's generic stages name no provider, dialect or converter: those are chosen per
    // request through the registries and the route table.
    files: ['src/modules/relay/pipeline/**/*.ts'],
    ignores: ['**/*.spec.ts', 'src/modules/relay/pipeline/testing/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                'src/modules/relay/providers/*/**',
                'src/modules/relay/dialects/*/**',
                'src/modules/relay/converters/*/**',
                '../providers/*/**',
                '../dialects/*/**',
                '../converters/*/**',
              ],
              message:
                'Generic relay stages reach providers, dialects and converters only through ProviderRegistry, the route table and ConverterRegistry.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.spec.ts', 'test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  ...tseslint.configs.recommendedTypeChecked.map((config) => ({ ...config, files: adminUiFiles })),
  { ...reactHooks.configs.flat.recommended, files: adminUiFiles },
  { ...jsxA11y.flatConfigs.recommended, files: adminUiFiles },
  {
    files: adminUiFiles,
    languageOptions: {
      parserOptions: {
        project: './admin-ui/tsconfig.json',
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      // Props and context values hold plain closures: typed as properties, they can be
      // destructured without unbound-method findings and are checked contravariantly.
      '@typescript-eslint/method-signature-style': ['error', 'property'],
      'react-hooks/exhaustive-deps': 'error',
    },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: {
        require: 'readonly',
        module: 'writable',
        process: 'readonly',
        console: 'readonly',
        __dirname: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        URL: 'readonly',
        Buffer: 'readonly',
        fetch: 'readonly',
      },
    },
  },
  prettier,
);
