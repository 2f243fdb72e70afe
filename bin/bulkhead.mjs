#!/usr/bin/env node
// The CLI runs from TypeScript source through tsx, so a fresh clone needs no build step.
import { register } from 'tsx/esm/api';
register();
await import('../src/cli/main.ts');
