// Errors of the R2 binding name their R2 code: "completeMultipartUpload: <text> (10024)".
// The codes a caller can cause become 4xx with R2's own text; any other stays a 500.

export interface R2Failure {
  code: number;
  /** R2's description, without the method name. */
  text: string;
}

const R2_MESSAGE =
  /^(?:head|get|put|list|delete|createMultipartUpload|uploadPart|completeMultipartUpload|abortMultipartUpload): ([^]*) \((\d{5,6})\)$/;

export function r2Failure(error: unknown): R2Failure | undefined {
  const match = error instanceof Error ? R2_MESSAGE.exec(error.message) : null;
  return match ? { code: Number(match[2]), text: match[1]! } : undefined;
}

/** R2 code -> status, for the codes that say the request was wrong (R2's error code list). */
const CALLER_STATUS: Record<number, number> = {
  10007: 404, // NoSuchKey
  10011: 400, // EntityTooSmall: a part under 5 MiB
  10012: 400, // MetadataTooLarge
  10020: 400, // InvalidObjectName
  10022: 400, // InvalidMaxKeys
  10024: 404, // NoSuchUpload
  10025: 400, // InvalidPart: unknown part number or etag
  10029: 400, // InvalidArgument
  10031: 412, // PreconditionFailed
  10037: 400, // BadDigest
  10039: 416, // InvalidRange
  10048: 400, // BadUpload: parts of unequal size
  100100: 413, // EntityTooLarge
};

/** The status and message for an R2 error of client origin; undefined for anything else. */
export function callerR2Error(error: unknown): { status: number; message: string; code: number } | undefined {
  const failure = r2Failure(error);
  const status = failure && CALLER_STATUS[failure.code];
  return status ? { status, message: `Refused by R2: ${failure.text}`, code: failure.code } : undefined;
}
