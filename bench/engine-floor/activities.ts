/** The floor's activities: each a round trip through Temporal with no work in it. */
export const floorActivities = {
  charge: (amount: number): Promise<number> => Promise.resolve(amount),
  recordPayment: (amount: number): Promise<number> => Promise.resolve(amount),
};
