// ESLint 9 flat config: typescript-eslint's recommended type-checked rules on the TypeScript
// of src/, tests/, scripts/ and bench/. `npm run lint` runs it (with depcruise) in CI.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * raw-sql/unsafe: Prisma's $queryRawUnsafe and $executeRawUnsafe take SQL text as a string, so nothing stops a value from
 * being spliced into it; the tagged templates ($queryRaw`...`, $executeRaw`...`, Prisma.sql) bind every value. Where an
 * Unsafe call is the better tool it says why, and raw-sql/reason (a rule of its own, so the same directive cannot silence
 * it) requires exactly that form: `// eslint-disable-next-line raw-sql/unsafe -- why`.
 */
const rawSql = {
  rules: {
    unsafe: {
      meta: {
        type: 'problem',
        schema: [],
        messages: {
          call: 'Use the $queryRaw/$executeRaw tagged templates, or say why not: // eslint-disable-next-line raw-sql/unsafe -- why',
        },
      },
      create: (context) => ({
        'MemberExpression > Identifier.property[name=/^\\$(query|execute)RawUnsafe$/]'(node) {
          context.report({ node, messageId: 'call' });
        },
      }),
    },
    reason: {
      meta: {
        type: 'problem',
        schema: [],
        messages: { reason: 'Allow one Unsafe raw query at a time, with its reason: // eslint-disable-next-line raw-sql/unsafe -- why' },
      },
      create: (context) => ({
        Program() {
          for (const directive of context.sourceCode.getDisableDirectives().directives) {
            if (directive.type === 'enable') continue;
            const rules = directive.value.split(',').map((rule) => rule.trim());
            const allowsUnsafe = rules.includes('raw-sql/unsafe') || rules.includes('');
            if (allowsUnsafe && (directive.type !== 'disable-next-line' || directive.justification.trim() === ''))
              context.report({ loc: directive.node.loc, messageId: 'reason' });
          }
        },
      }),
    },
  },
};

export default tseslint.config(
  // Generated code; the two client scenarios and prisma.config.ts are outside tsconfig.check.json (the scenarios want the DOM's types).
  { ignores: ['dist/', 'src/generated/', 'tests/openapi/generated/', 'tests/openapi/*-scenario.ts', 'prisma.config.ts', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { project: './tsconfig.check.json', tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'raw-sql': rawSql },
    rules: {
      'raw-sql/unsafe': 'error',
      'raw-sql/reason': 'error',
      // A leading underscore names what a destructuring leaves out on purpose (tsc's noUnusedLocals checks the rest).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // Off: Fastify plugins, hooks and handlers are async by contract, with an await in them or not.
      '@typescript-eslint/require-await': 'off',
      // Fastify's options (frameworkErrors, hooks) take async functions where their types say void.
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, properties: false } }],
      // A rejection passes on the error it was given (a stream's, an AbortSignal's reason) unchanged.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingAny: true, allowThrowingUnknown: true }],
    },
  },
  {
    files: ['tests/**/*.ts', 'bench/**/*.ts'],
    rules: {
      // Off in tests and benchmarks: supertest's response body is `any` by design, and its shape is
      // what the assertions check; typing every body would restate the OpenAPI schemas.
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    files: ['src/modules/*/routes.ts'],
    rules: {
      // Routes parse, call and answer: a query belongs in the module's repository.ts or writes.ts,
      // where the next reader looks for it. Handing `db.pool` or `db.prisma` on is fine; calling it is not.
      'no-restricted-syntax': [
        'error',
        {
          selector:
            "CallExpression > MemberExpression.callee > MemberExpression.object[object.name='db'][property.name=/^(prisma|pool|readPool)$/], " +
            "CallExpression > MemberExpression.callee > MemberExpression.object > MemberExpression.object[object.name='db'][property.name=/^(prisma|pool|readPool)$/]",
          message: 'No database calls in route files: put the query in repository.ts (reads) or writes.ts (writes).',
        },
      ],
    },
  },
  // Plain JavaScript (this file, scripts/*.mjs, .dependency-cruiser.cjs): Node's globals, no types to check with.
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { globals: { process: 'readonly', console: 'readonly', module: 'writable', require: 'readonly' } },
  },
);
