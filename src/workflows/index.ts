// Every workflow the worker registers is exported from here (the worker bundles this file).
export { orderWorkflow, orderWorkflowV2 } from './orders/order-workflow';
export { chunkWorkflow, uploadWorkflow } from './uploads/upload-workflow';
export { keyRotationWorkflow } from './keys/reencrypt-workflow';
export { reconciliationWorkflow } from './reconciliation/reconciliation-workflow';
