/**
 * Business identifiers (order, payment and customer IDs): one rule for the API and for uploads, so an
 * imported ID can always be used in a URL, and a workflow ID built from it stays readable. IDs are
 * case-sensitive everywhere, as Temporal's workflow IDs are: MySQL compares them as bytes.
 */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

export const ID_RULE =
  "must be 1 to 64 characters of letters, digits, '.', '_', ':' or '-', starting with a letter or digit";

export function isValidId(value: string): boolean {
  return ID_PATTERN.test(value);
}
