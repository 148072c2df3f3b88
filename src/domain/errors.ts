/**
 * The one error type of src/domain: `code` is for machines, `message` can be shown to users verbatim
 * and never contains a card number or CVC.
 */
export class DomainError extends Error {
  override readonly name = 'DomainError';

  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
