import { createKeyActivities, type KeyActivityDeps } from './keys';
import { createOrderActivities, type OrderActivityDeps } from './orders';
import { createReconciliationActivities, type ReconciliationActivityDeps } from './reconciliation';
import { createUploadActivities, type UploadActivityDeps } from './uploads';

export type ActivityDeps = OrderActivityDeps &
  UploadActivityDeps &
  KeyActivityDeps &
  ReconciliationActivityDeps;

/** All activities the worker registers, built from their dependencies so tests can inject their own. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createOrderActivities(deps),
    ...createUploadActivities(deps),
    ...createKeyActivities(deps),
    ...createReconciliationActivities(deps),
  };
}
