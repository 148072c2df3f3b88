import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Custom search attributes operators filter on in the Web UI. Registered on the dev server by `npm start`
 * and the tests, and in docker-compose by the one-shot setup job.
 */
export const ORDER_STATUS = defineSearchAttributeKey('OrderStatus', SearchAttributeType.KEYWORD);
export const CUSTOMER_ID = defineSearchAttributeKey('CustomerId', SearchAttributeType.KEYWORD);
export const UPLOAD_ID = defineSearchAttributeKey('UploadId', SearchAttributeType.KEYWORD);

export const CUSTOM_SEARCH_ATTRIBUTES = [ORDER_STATUS, CUSTOMER_ID, UPLOAD_ID];
