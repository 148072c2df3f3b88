/** zod with the `.openapi()` metadata of zod-to-openapi: every API schema imports `z` from here. */
import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';

extendZodWithOpenApi(z);

export { z };
