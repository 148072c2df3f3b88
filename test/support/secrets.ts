// Generated identifiers hold any short run of digits by chance: UUIDs (request, order, payment and run ids)
// and long hex tokens such as build ids and hashes.
const GENERATED_IDS = [
  /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi,
  /(?<![0-9a-z])(?=[0-9]*[a-f])[0-9a-f]{8,}(?![0-9a-z])/gi,
];

/** Whether `digits` (a card number or CVC) stand alone in text, outside generated ids and longer numbers. */
export const mentionsDigits = (text: string, digits: string): boolean =>
  new RegExp(`(?<!\\d)${digits}(?!\\d)`).test(
    GENERATED_IDS.reduce((masked, pattern) => masked.replace(pattern, '<id>'), text),
  );
