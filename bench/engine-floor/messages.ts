/** The floor workflow's name and update, shared by the workflow and its clients. */
import { defineUpdate } from '@temporalio/workflow';

export const FLOOR_WORKFLOW = 'floorOrderWorkflow';
/** Pays the order (the amount in minor units); answers its status once the charge is recorded. */
export const payUpdate = defineUpdate<string, [number]>('pay');
