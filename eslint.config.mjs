import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

const infra = ['@nestjs/*', 'typeorm', 'kafkajs', '@opentelemetry/*', 'pg', 'express'];

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      '.tools/**',
      '.nx/**',
      'coverage/**',
      'deploy/local/.kafka/**',
      '**/*.js',
      '**/*.mjs',
      '**/*.cjs',
    ],
  },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { requireDefaultForNonUnion: false }],
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false },
      ],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-console': 'error',
      '@nx/enforce-module-boundaries': [
        'error',
        {
          allow: [],
          depConstraints: [
            {
              sourceTag: 'type:app',
              onlyDependOnLibsWithTags: ['type:adapter', 'type:domain', 'type:contracts', 'type:util'],
            },
            {
              sourceTag: 'type:adapter',
              onlyDependOnLibsWithTags: ['type:adapter', 'type:domain', 'type:contracts', 'type:util'],
            },
            {
              sourceTag: 'type:domain',
              onlyDependOnLibsWithTags: ['type:domain', 'type:contracts', 'type:util'],
              bannedExternalImports: infra,
            },
            { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: ['type:contracts'], bannedExternalImports: infra },
            {
              sourceTag: 'type:util',
              onlyDependOnLibsWithTags: ['type:util', 'type:contracts'],
              bannedExternalImports: infra,
            },
            { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
            { sourceTag: 'scope:policy-decision', onlyDependOnLibsWithTags: ['scope:shared', 'scope:policy-decision'] },
            { sourceTag: 'scope:approval-queue', onlyDependOnLibsWithTags: ['scope:shared', 'scope:approval-queue'] },
            {
              sourceTag: 'scope:execution-binding',
              onlyDependOnLibsWithTags: ['scope:shared', 'scope:execution-binding'],
            },
            { sourceTag: 'scope:audit', onlyDependOnLibsWithTags: ['scope:shared', 'scope:audit'] },
            { sourceTag: 'scope:mcp-gateway', onlyDependOnLibsWithTags: ['scope:shared', 'scope:mcp-gateway'] },
          ],
        },
      ],
    },
  },
  {
    // The test kit is for specs only: production code may not import it.
    files: ['libs/*/src/**/*.ts', 'services/*/src/**/*.ts'],
    ignores: ['**/*.spec.ts', 'libs/testkit/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['@countersign/testkit', '@countersign/testkit/*'] }],
    },
  },
  {
    // libs/bus is the Kafka and outbox library: Nest belongs to libs/service-kit, which builds on it.
    files: ['libs/bus/src/**/*.ts', 'libs/config/src/**/*.ts', 'libs/clock/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@nestjs/*'], message: 'Nest adapters go in libs/service-kit' },
            { group: ['@countersign/service-kit'], message: 'service-kit builds on this library, not the reverse' },
            { group: ['@countersign/testkit', '@countersign/testkit/*'], message: 'the test kit is for specs only' },
          ],
        },
      ],
    },
  },
  {
    // The pure policy engine may not read files or clocks while deciding.
    files: ['libs/policy/src/**/*.ts'],
    ignores: ['libs/policy/src/**/*.spec.ts', 'libs/policy/src/load-policy-dir.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: ['node:fs', 'fs', 'node:fs/*', 'fs/*', 'node:net', 'node:http', '@countersign/testkit'],
        },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'pass `now` in: the engine is pure' },
      ],
    },
  },
  {
    // A feature's core/ is pure: inputs in (`now` included), tagged outcomes out. Types of entities
    // and ports may be imported; frameworks, drivers, files, the network and the clock may not.
    files: ['services/*/src/**/core/**/*.ts'],
    ignores: ['services/*/src/**/core/**/*.spec.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                ...infra,
                'pino',
                'node:fs',
                'fs',
                'node:fs/*',
                'node:net',
                'node:http',
                'node:https',
                'node:child_process',
              ],
              allowTypeImports: true,
              message: 'core/ is pure: do I/O in a use case or an adapter and pass the result in',
            },
            {
              group: ['**/*.repository', '**/*.entity', '**/*.port', '**/*.store', '**/*.service', '**/*.use-case'],
              allowTypeImports: true,
              message: 'core/ may use the types of adapters, not their code',
            },
          ],
        },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'pass `now` in: core/ is pure' },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'pass `now` in: core/ is pure' },
        {
          selector: "MemberExpression[object.name='process'][property.name='env']",
          message: 'core/ takes its settings as arguments',
        },
      ],
    },
  },
  {
    files: [
      'libs/cli/**/*.ts',
      'bench/**/*.ts',
      'deploy/**/*.ts',
      'test/**/*.ts',
      '**/*.spec.ts',
      '**/*.integration-spec.ts',
      '**/*.e2e-spec.ts',
    ],
    rules: { 'no-console': 'off' },
  },
  {
    // Tests wait on the effect (waitUntil) or a barrier; a wait for wall-clock time on purpose is elapse(ms, why).
    files: ['test/**/*.ts', 'services/*/test/**/*.ts', 'libs/*/test/**/*.ts', '**/*.spec.ts'],
    ignores: ['libs/testkit/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector:
            "NewExpression[callee.name='Promise'] > ArrowFunctionExpression > CallExpression[callee.name='setTimeout']",
          message: 'no fixed sleeps in tests: wait on the effect (waitUntil), a barrier, or elapse(ms, why)',
        },
      ],
      'no-restricted-imports': [
        'error',
        { paths: [{ name: 'node:timers/promises', message: 'wait with waitUntil, a barrier, or elapse(ms, why)' }] },
      ],
    },
  },
  {
    // Integration specs drive the service from outside through the shared test harness.
    files: ['services/*/test/**/*.ts'],
    rules: { '@nx/enforce-module-boundaries': 'off' },
  },
  prettier,
);
