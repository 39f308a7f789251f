/**
 * SQS's errors as its JSON protocol sends them: an HTTP status, a body `{"__type", "message"}` and,
 * because SQS is "query compatible", an `x-amzn-query-error: <Code>;Sender` header carrying the
 * error code the query protocol used. `@aws-sdk/client-sqs` reads that header first, so a client
 * sees the same `err.name` (QueueDoesNotExist, ReceiptHandleIsInvalid, InvalidParameterValue, …)
 * as against SQS.
 *
 * Types, codes and statuses of the modelled errors are those of the SQS Smithy model (as shipped in
 * @aws-sdk/client-sqs's schemas); the common ones (InvalidParameterValue, MissingParameter, the
 * signature errors) are from the API reference's "Common Errors" and from what SQS sends.
 */

export class SqsError extends Error {
  constructor(
    readonly status: number,
    /** `__type`: the shape id, `com.amazonaws.sqs#QueueDoesNotExist`. */
    readonly type: string,
    /** The query-protocol code, `AWS.SimpleQueueService.NonExistentQueue`; also a batch entry's `Code`. */
    readonly code: string,
    message: string,
    readonly senderFault = true,
  ) {
    super(message);
    this.name = 'SqsError';
  }
}

const sqs = (status: number, shape: string, code: string, message: string) => new SqsError(status, `com.amazonaws.sqs#${shape}`, code, message);
const coral = (status: number, shape: string, code: string, message: string) => new SqsError(status, `com.amazon.coral.service#${shape}`, code, message);

export const queueDoesNotExist = () => sqs(400, 'QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue', 'The specified queue does not exist.');
export const queueNameExists = (message: string) => sqs(400, 'QueueNameExists', 'QueueAlreadyExists', message);
export const queueDeletedRecently = (name: string) =>
  sqs(400, 'QueueDeletedRecently', 'AWS.SimpleQueueService.QueueDeletedRecently', `You must wait 60 seconds after deleting a queue before you can create another queue named ${name}.`);
export const receiptHandleIsInvalid = (handle: string) =>
  sqs(404, 'ReceiptHandleIsInvalid', 'ReceiptHandleIsInvalid', `The input receipt handle "${handle}" is not a valid receipt handle.`);
export const messageNotInflight = () => sqs(400, 'MessageNotInflight', 'AWS.SimpleQueueService.MessageNotInflight', 'The message referred to is not in flight.');
export const invalidParameterValue = (message: string) => sqs(400, 'InvalidParameterValue', 'InvalidParameterValue', message);
export const missingParameter = (name: string) => sqs(400, 'MissingParameter', 'MissingParameter', `The request must contain the parameter ${name}.`);
export const invalidAttributeName = (name: string) => sqs(400, 'InvalidAttributeName', 'InvalidAttributeName', `Unknown Attribute ${name}.`);
export const invalidAttributeValue = (name: string, reason?: string) =>
  sqs(400, 'InvalidAttributeValue', 'InvalidAttributeValue', `Invalid value for the parameter ${name}.${reason ? ` Reason: ${reason}` : ''}`);
export const invalidMessageContents = () =>
  sqs(400, 'InvalidMessageContents', 'InvalidMessageContents', 'Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF');
export const emptyBatchRequest = (entry: string) =>
  sqs(400, 'EmptyBatchRequest', 'AWS.SimpleQueueService.EmptyBatchRequest', `There should be at least one ${entry} in the request.`);
export const tooManyEntriesInBatchRequest = (count: number) =>
  sqs(400, 'TooManyEntriesInBatchRequest', 'AWS.SimpleQueueService.TooManyEntriesInBatchRequest', `Maximum number of entries per request are 10. You have sent ${count}.`);
export const batchEntryIdsNotDistinct = (id: string) => sqs(400, 'BatchEntryIdsNotDistinct', 'AWS.SimpleQueueService.BatchEntryIdsNotDistinct', `Id ${id} repeated.`);
export const invalidBatchEntryId = () =>
  sqs(400, 'InvalidBatchEntryId', 'AWS.SimpleQueueService.InvalidBatchEntryId', 'A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.');
export const batchRequestTooLong = (limit: number, length: number) =>
  sqs(400, 'BatchRequestTooLong', 'AWS.SimpleQueueService.BatchRequestTooLong', `Batch requests cannot be longer than ${limit} bytes. You have sent ${length} bytes.`);
export const purgeQueueInProgress = (name: string) =>
  sqs(403, 'PurgeQueueInProgress', 'AWS.SimpleQueueService.PurgeQueueInProgress', `Only one PurgeQueue operation on ${name} is allowed every 60 seconds.`);
export const unsupportedOperation = (message: string) => sqs(400, 'UnsupportedOperation', 'AWS.SimpleQueueService.UnsupportedOperation', message);
export const resourceNotFound = (message: string) => sqs(404, 'ResourceNotFoundException', 'ResourceNotFoundException', message);

export const unknownOperation = () => coral(400, 'UnknownOperationException', 'InvalidAction', 'The action or operation requested is invalid. Verify that the action is typed correctly.');
export const serializationError = (message: string) => coral(400, 'SerializationException', 'SerializationException', message);
export const requestEntityTooLarge = (limit: number) => coral(413, 'RequestEntityTooLargeException', 'RequestEntityTooLarge', `Request body must be at most ${limit} bytes.`);
export const missingAuthenticationToken = () =>
  coral(403, 'MissingAuthenticationTokenException', 'MissingAuthenticationToken', 'Request is missing Authentication Token');
export const invalidClientTokenId = () => coral(403, 'UnrecognizedClientException', 'InvalidClientTokenId', 'The security token included in the request is invalid.');
export const signatureDoesNotMatch = (message: string) => coral(403, 'InvalidSignatureException', 'SignatureDoesNotMatch', message);
export const incompleteSignature = (message: string) => coral(400, 'IncompleteSignatureException', 'IncompleteSignature', message);
export const internalFailure = () => new SqsError(500, 'com.amazon.coral.service#InternalFailure', 'InternalFailure', 'We encountered an internal error. Please try again.', false);
