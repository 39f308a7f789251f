/**
 * What one `?rows=` request may spend, derived from the read function's settings: the engine reads
 * until it has the page, the byte budget or the deadline, whichever comes first. No SDK here, so the
 * hostile benchmark's child can use the same figures without loading it.
 */
import { SERVICE_FUNCTIONS } from '../shared/grants';
import { LAMBDA_MAX_RESPONSE_BYTES, RESPONSE_HEADROOM_BYTES } from '../shared/http';

/**
 * The read function's timeout (10 s) less 3 s for what comes before and after the reading: the S3
 * request, encoding the page and sending it. Past it the reader answers with the rows it has.
 */
export const ROWS_DEADLINE_MS = SERVICE_FUNCTIONS.read.timeoutSeconds * 1000 - 3000;

/**
 * The engine's byte budget for a page, counted as Lambda counts the proxy response (the page's
 * JSON escaped again as its body): Lambda's limit less the headroom read.ts keeps for headers, and
 * 16 KiB more for what the engine's count leaves out (the page's keys, the cursor).
 */
export const ROWS_MAX_RESPONSE_BYTES = LAMBDA_MAX_RESPONSE_BYTES - RESPONSE_HEADROOM_BYTES - 16 * 1024;
