// Random UUIDs (request, order, payment and run ids) may hold any short run of digits by chance.
const GENERATED_ID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

/** Whether `digits` (a card number or CVC) stand alone in text, outside generated ids and longer numbers. */
export const mentionsDigits = (text: string, digits: string): boolean =>
  new RegExp(`(?<!\\d)${digits}(?!\\d)`).test(text.replace(GENERATED_ID, '<id>'));
