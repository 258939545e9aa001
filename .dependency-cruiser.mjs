/**
 * The code's layering, checked by `npm run lint:deps` (part of `npm test`):
 * stages talk only through each other's index.ts, nothing imports in a
 * circle, and only the CLI knows about commander.
 */
export default {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Files that import each other in a loop: split the shared part out.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'stage-faces-only',
      severity: 'error',
      comment: "A stage imports another stage's index.ts (its face) only, never its internals.",
      from: { path: '^src/([^/]+)/' },
      to: { path: '^src/([^/]+)/(?!index\\.ts$)', pathNot: '^src/$1/' },
    },
    {
      name: 'cli-on-top',
      severity: 'error',
      comment: 'Nothing below the command line imports it.',
      from: { path: '^src/', pathNot: '^src/cli/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'commander-in-cli-only',
      severity: 'error',
      comment: 'Only the command line parses arguments.',
      from: { path: '^src/', pathNot: '^src/cli/' },
      to: { path: 'node_modules/commander/' },
    },
    {
      name: 'docker-code-on-demand',
      severity: 'error',
      comment: 'Only engine/docker.ts loads testcontainers, and only with import(): other engines never load Docker code.',
      from: { path: '^src/' },
      to: { path: 'node_modules/(@testcontainers|testcontainers|dockerode)/', dependencyTypesNot: ['dynamic-import', 'type-only', 'type-import'] },
    },
    {
      name: 'docker-code-in-docker-engine-only',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/engine/docker\\.ts$' },
      to: { path: 'node_modules/(@testcontainers|testcontainers|dockerode)/' },
    },
    {
      name: 'no-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // node_modules stays in the graph (not followed), so the rules about packages can see them.
    exclude: { path: '^dist/' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
