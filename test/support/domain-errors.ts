import { DomainError } from '../../src/domain/errors';

/** The code and message of the DomainError that `run` throws. */
export function errorOf(run: () => unknown): { code: string; message: string } {
  try {
    run();
  } catch (error) {
    if (error instanceof DomainError) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('expected a DomainError');
}
