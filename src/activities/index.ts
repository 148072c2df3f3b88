import type { Db } from '../db/knex';

export interface ActivityDeps {
  db: Db;
}

/** All activities the worker registers, built from their dependencies so tests can inject their own. */
export function createActivities(_deps: ActivityDeps) {
  return {};
}
