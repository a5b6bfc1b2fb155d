/** Registry-driven contract suites: every registered component of a kind runs the suite, once per fixture. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defsOf } from '../../src/registry/lookup.js';
import type { AnyDef, Kind } from '../../src/contract/index.js';

/**
 * Calls `suite(def, fixture)` for every registered component of `kind` (plus `extra` definitions, e.g. test doubles)
 * and each of its fixtures in `fixtures` (keyed by type). A component without fixtures gets a failing test that says
 * where to add them (`file`), so a new component cannot skip the contract.
 */
export function forEachFixture<D extends AnyDef, F>(
  kind: Kind,
  fixtures: Record<string, F[]>,
  file: string,
  suite: (def: D, fixture: F) => void,
  extra: readonly D[] = [],
): void {
  for (const def of [...(defsOf(kind) as D[]), ...extra]) {
    const mine = fixtures[def.type];
    test(`${kind} ${def.type}: has contract fixtures`, () => {
      assert.ok(mine && mine.length > 0, `add fixtures for ${kind} type '${def.type}' to ${file}`);
    });
    for (const f of mine ?? []) suite(def, f);
  }
}
