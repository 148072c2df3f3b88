// Every workflow the worker registers is exported from here (the worker bundles this file).
export {};
