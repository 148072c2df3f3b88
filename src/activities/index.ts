import { createKeyActivities, type KeyActivityDeps } from './keys';
import { createOrderActivities, type OrderActivityDeps } from './orders';
import { createUploadActivities, type UploadActivityDeps } from './uploads';

export type ActivityDeps = OrderActivityDeps & UploadActivityDeps & KeyActivityDeps;

/** All activities the worker registers, built from their dependencies so tests can inject their own. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createOrderActivities(deps),
    ...createUploadActivities(deps),
    ...createKeyActivities(deps),
  };
}
