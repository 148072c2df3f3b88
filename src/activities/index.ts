import { createOrderActivities, type OrderActivityDeps } from './orders';
import { createUploadActivities } from './uploads';

export type ActivityDeps = OrderActivityDeps;

/** All activities the worker registers, built from their dependencies so tests can inject their own. */
export function createActivities(deps: ActivityDeps) {
  return { ...createOrderActivities(deps), ...createUploadActivities(deps) };
}
